"""Sampling one sequence of a batch, and what prompts share (pure logic, no model)."""

import asyncio

import numpy as np

from bot.llm.base import Generation, Sampling, generate_together
from bot.llm.batched import Strand, choose, shared_start

LOGITS = np.array([1.0, 4.0, 3.9, 0.5, -2.0])


def rng(seed: int = 1) -> np.random.Generator:
    return np.random.default_rng(seed)


def test_greedy_takes_the_likeliest_token_left_after_the_banned_ones():
    greedy = Sampling(temperature=0.0)
    assert choose(LOGITS, [], greedy, [], rng()) == 1
    assert choose(LOGITS, [], greedy, [1], rng()) == 2
    assert choose(LOGITS, [], greedy, [1, 2], rng()) == 0


def test_a_banned_token_is_never_sampled():
    warm = Sampling(temperature=1.5, top_p=1.0, min_p=0.0)
    chosen = {choose(LOGITS, [], warm, [1, 2], rng(seed)) for seed in range(200)}
    assert chosen and not chosen & {1, 2}
    assert len(chosen) > 1


def test_penalties_push_down_the_tokens_just_written():
    greedy = Sampling(temperature=0.0, repeat_penalty=1.5)
    assert choose(LOGITS, [1, 1], greedy, [], rng()) == 2
    frequent = Sampling(temperature=0.0, frequency_penalty=0.2)
    assert choose(LOGITS, [4, 1], frequent, [], rng()) == 2
    assert choose(LOGITS, [1] * 70 + [0] * 64, frequent, [], rng()) == 1, "only the last 64"


def test_top_p_and_min_p_cut_the_unlikely_tail():
    tight = Sampling(temperature=1.0, top_p=0.1, min_p=0.0)
    assert {choose(LOGITS, [], tight, [], rng(seed)) for seed in range(50)} == {1}
    strict = Sampling(temperature=1.0, top_p=1.0, min_p=0.5)
    assert {choose(LOGITS, [], strict, [], rng(seed)) for seed in range(100)} == {1, 2}


def test_the_same_seed_samples_the_same_tokens():
    warm = Sampling(temperature=1.2, top_p=1.0, min_p=0.0)
    first, again, other = rng(7), rng(7), rng(8)
    drawn = [choose(LOGITS, [], warm, [], first) for _ in range(30)]
    assert drawn == [choose(LOGITS, [], warm, [], again) for _ in range(30)]
    assert drawn != [choose(LOGITS, [], warm, [], other) for _ in range(30)]


def test_prompts_share_their_start_but_each_keeps_its_last_token():
    assert shared_start([[1, 2, 3, 4], [1, 2, 3, 5]]) == 3
    assert shared_start([[1, 2, 3], [1, 2, 3]]) == 2
    assert shared_start([[1, 2, 3], [1, 2, 3, 4, 5]]) == 2
    assert shared_start([[9, 2], [1, 2]]) == 0


def test_a_strand_ends_on_an_end_token_a_stop_or_its_token_limit():
    def banned(tokens: list[int]) -> list[int]:
        return []

    ended = Strand([1], Sampling(max_tokens=5), banned)
    ended.take(7, b"Hi", ends=[0])
    ended.take(0, b"", ends=[0])
    assert (ended.text, ended.finish_reason) == ("Hi", "stop")
    stopped = Strand([1], Sampling(max_tokens=5, stop=("\n\n",)), banned)
    for piece in (b"One.", b"\n", b"\nTwo"):
        stopped.take(7, piece, ends=[0])
    assert (stopped.text, stopped.finish_reason) == ("One.", "stop")
    streamed: list[str] = []
    long = Strand([1], Sampling(max_tokens=2), banned, streamed.append)
    long.take(7, "\u00e9".encode()[:1], ends=[0])
    long.take(8, "\u00e9".encode()[1:], ends=[0])
    assert (long.text, long.finish_reason, streamed) == ("\u00e9", "length", ["", "\u00e9"])


async def test_a_model_that_cannot_batch_is_asked_for_every_answer_at_once():
    class OneAtATime:
        name = "plain"

        def __init__(self) -> None:
            self.in_flight = self.most = 0

        async def generate(self, prompt, sampling, on_text=None):
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            await asyncio.sleep(0.05)
            self.in_flight -= 1
            if on_text is not None:
                on_text(f"{prompt}!")
            return Generation(text=f"{prompt}!", model=self.name)

    model = OneAtATime()
    streamed: list[str] = []
    answers = await generate_together(
        model, ["a", "b", "c"], [Sampling()] * 3, [None, streamed.append, None]
    )
    assert [answer.text for answer in answers] == ["a!", "b!", "c!"]
    assert model.most == 3 and streamed == ["b!"]
