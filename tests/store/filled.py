"""A database with something in every table: stories (one ended), branches, a closed ballot
with options and votes, lore, posted messages, nudges, model calls and a cooldown."""

from __future__ import annotations

from itertools import count

from bot.engine import Engine
from bot.llm import Models, Sampling
from bot.llm.scripted import ScriptedModel
from bot.store import Reaction, Store
from tests.stories import SCRIPTED_CONFIG

OPENING = "Mira climbed the lighthouse stairs with a lantern, counting the steps as she went."
SENTENCES = (
    "The lamp room smelled of oil and salt.",
    "A gull hammered at the glass until Mira let it in.",
    "Far below, the tide turned over the black rocks.",
    "She found a letter folded inside the logbook.",
    "Someone had scratched a map into the brass rail.",
    "The keeper's cat watched the door without blinking.",
    "Thunder rolled in from the west like barrels on a quay.",
    "Her brother's boat was late, and the radio only hissed.",
)


def varied_model() -> ScriptedModel:
    """A model whose every answer is two sentences it has not paired before."""
    numbers = count()

    def answer(prompt: object, sampling: Sampling) -> str:
        n = next(numbers)
        return f"{SENTENCES[n % 8]} {SENTENCES[(n // 8 + n + 3) % 8]} ({n})"

    return ScriptedModel(fallback=answer)


async def fill(store: Store) -> Engine:
    """Write a little of everything into `store`; the engine that wrote it."""
    model = varied_model()
    engine = Engine(store, Models(model, model), SCRIPTED_CONFIG)
    story = await engine.start(guild_id=1, channel_id=2, opening=OPENING, started_by=7)
    await engine.next(story.id, direction="A storm comes.")
    head = (await engine.stories.story(story.id)).head_id
    candidates = await engine.candidates(story.id, 3)
    ballot = await store.create_ballot(
        story.id,
        "passage",
        head_id=head,
        opened_by=7,
        opened_at=100.0,
        deadline=220.0,
        quorum=0,
        options=[(e, c.id, "", None) for e, c in zip("🇦🇧🇨", candidates, strict=True)],
    )
    await store.set_ballot_message(ballot.id, 2, 5551)
    await store.add_votes(ballot.id, [Reaction(8, "🇧", True, 150.0), Reaction(9, "🇧", True, 151.5)])
    chosen = await engine.commit(story.id, candidates[1].id)
    await store.close_ballot(
        ballot.id, closed_at=220.0, outcome="chosen", winner_id=ballot.options[1].id
    )
    await engine.edits.add_lore(
        story.id, "character", "Mira", "mira, keeper", "A lighthouse keeper."
    )
    await store.add_thread(story.id, "Who lit the lamp on the empty rock?", 8)
    await store.add_passage_message(7771, chosen.id)
    await store.add_nudge(chosen.id, Reaction(9, "😂", True, 230.0))
    await store.take_cooldown(1, 7, 240.0, 10.0)
    ended = await engine.start(guild_id=1, channel_id=3, opening="A short tale ends here.")
    await engine.end(ended.id)
    return engine


async def every_row(store: Store) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows, in order of their first column."""
    columns = await store.database.columns()
    return {
        table: await store.database.fetch(
            f"SELECT {', '.join(names)} FROM {table} ORDER BY {', '.join(names[:2])}"
        )
        for table, names in columns.items()
    }
