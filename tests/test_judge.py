"""The passage judge: unit cases, and agreement with the hand-labelled passages in tests/data."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from bot.judge import (
    FAULTS,
    RECYCLED_WORDS,
    StoryView,
    Verdict,
    debris,
    judge_passage,
    judge_summary,
)
from bot.ledger import read_ledger
from bot.narration import narration_person
from bot.store.records import LedgerEntry

LABELLED = Path(__file__).resolve().parent / "data" / "passages.jsonl"
PRECISION_BAR = 0.9
UNHELD = ("contradiction", "offbeat")
"""Faults whose figures are printed but not held to the bars: the labelled set does not yet
hold enough real passages with them (no contradiction, four passages off their beat)."""
RECALL_BAR = 0.8
"""Per fault. A false fault costs a regeneration; a missed one lets the fault reach readers."""

THIRD = (
    "Mara pushed the door of the lighthouse open and climbed the stairs two at a time. The lamp "
    "room smelled of oil and salt, and the great lens threw her shadow across the glass. She set "
    "the lantern down, wiped her hands on her coat, and looked out at the black water, where a "
    "single light was moving against the tide."
)
FIRST = (
    "I pushed the door of the lighthouse open and climbed the stairs two at a time. The lamp room "
    "smelled of oil and salt, and the great lens threw my shadow across the glass. I set the "
    "lantern down, wiped my hands on my coat, and looked out at the black water, where a single "
    "light was moving against the tide."
)
GOOD = (
    "The light came closer. Mara could make out a small boat now, its oars dipping unevenly. "
    '"Ahoy!" she called, but the wind took her voice and threw it back at the rocks. '
    "Below, the bell on "
    "the jetty began to ring, once, twice, though nobody stood beside it. She took the stairs down "
    "faster than she had climbed them, the lantern swinging in her fist."
)


def story(
    opening: str = THIRD, recent: tuple[str, ...] = (), person: str | None = None
) -> StoryView:
    return StoryView(opening=opening, summary="", recent=recent, person=person)


def test_a_plain_continuation_has_no_fault_and_scores_zero() -> None:
    verdict = judge_passage(GOOD, story())
    assert verdict.faults == ()
    assert verdict.ok
    assert verdict.score == 0.0
    assert verdict.person == "third"


@pytest.mark.parametrize(
    ("text", "fault"),
    [
        (GOOD + " This passage shows how brave she has become.", "meta"),
        (GOOD + " The story continues as the bell rings.", "meta"),
        (GOOD + " The next sentence has already been told in full detail.", "meta"),
        (GOOD + " The story starts with a light on the rocks.", "meta"),
        (GOOD + " The story's first few sentences are told; do not tell it again.", "meta"),
        (GOOD + " This is not just about writing stories; it is about people.", "meta"),
        (GOOD + " The next scene begins: a stranger walks in.", "meta"),
        (GOOD + " The tale has already begun, and the narrator smiled.", "meta"),
        ("Sure! Here is the next part. " + GOOD, "assistant"),
        (GOOD + " I hope you enjoy it, and let me know what happens next.", "assistant"),
        (GOOD + " I ran after her, and my heart was pounding as I reached the jetty.", "person"),
        (GOOD + " You feel the cold on your face as you follow her.", "person"),
        (GOOD + " She ran down to the jetty where the", "cutoff"),
        ("Mara ran down to the jetty.", "stub"),
        (GOOD + "\n<strong>The jetty</strong>", "debris"),
        (GOOD + "\n\u2022 She ran.\n(Source)", "debris"),
        (GOOD + "\n\n## Chapter two", "debris"),
        (GOOD + " Read it at https://example.com today.", "debris"),
    ],
)
def test_each_fault_is_found(text: str, fault: str) -> None:
    assert fault in judge_passage(text, story()).faults


def test_a_sentence_or_a_story_within_the_story_is_no_talk_about_the_text() -> None:
    text = GOOD + " She read the first sentence of the letter, then told the old story again."
    assert "meta" not in judge_passage(text, story()).faults


def test_a_scene_break_and_emphasis_are_prose_not_debris() -> None:
    text = GOOD + "\n\n* * *\n\nShe *ran*, and 3 > 2 was no help to her at all."
    assert "debris" not in judge_passage(text, story()).faults


def test_dialogue_does_not_change_the_narration_or_talk_about_the_story() -> None:
    text = GOOD + ' "I hope you read the story I left you," the stranger said. "Let me know."'
    verdict = judge_passage(text, story())
    assert verdict.faults == ()
    assert narration_person(text) == "third"


def test_a_first_person_story_stays_first_person() -> None:
    mine = GOOD.replace("Mara could", "I could").replace("she called", "I called")
    mine = (
        mine.replace("her voice", "my voice")
        .replace("She took", "I took")
        .replace("her fist", "my fist")
    )
    assert narration_person(FIRST) == "first"
    assert judge_passage(mine, story(FIRST)).faults == ()
    assert "person" in judge_passage(GOOD.replace("Mara", "He"), story(FIRST)).faults
    assert "person" not in judge_passage(GOOD, story(FIRST, person="third")).faults


def test_a_second_person_story_may_say_you() -> None:
    yours = FIRST.replace("I ", "you ").replace("my ", "your ").replace("you pushed", "You push")
    text = "You hear the bell below you. Your hands shake as you set the lantern down and listen."
    text = f"{text} The wind drops, and for a moment the whole tower is silent around you, waiting."
    assert narration_person(yours) == "second"
    assert "person" not in judge_passage(text, story(yours)).faults
    assert "person" in judge_passage(text, story()).faults


def test_a_recycled_span_is_reported_from_the_threshold_on() -> None:
    copied = " ".join(THIRD.split()[:RECYCLED_WORDS])
    below = " ".join(THIRD.split()[: RECYCLED_WORDS - 1])
    recycled = judge_passage(f"{copied}. Now {GOOD}", story())
    assert "recycled" in recycled.faults
    assert recycled.recycled_span == copied.lower().replace(",", "")
    assert "recycled" not in judge_passage(f"{below}. Now {GOOD}", story()).faults


def test_recycling_counts_from_recent_passages_and_the_summary() -> None:
    earlier = "The bell on the jetty rang three times before anyone in the village woke."
    text = f"{GOOD} The bell on the jetty rang three times before anyone in the village woke."
    assert "recycled" in judge_passage(text, story(recent=(earlier,))).faults
    summary_view = StoryView(opening=THIRD, summary=earlier, recent=())
    assert "recycled" in judge_passage(text, summary_view).faults


def test_a_passage_that_repeats_itself_is_found() -> None:
    text = " ".join(["She ran down the stairs and out onto the jetty in the rain."] * 5)
    verdict = judge_passage(text, story())
    assert "repetition" in verdict.faults
    assert verdict.seq_rep_4 > 0.5


def test_a_sentence_told_twice_with_a_word_changed_is_found() -> None:
    again = " She watched as the fire spread, consumed everything in its path."
    text = f"{GOOD} She watched as the fire spread, consuming everything in its path.{again}"
    assert "repetition" in judge_passage(text, story()).faults
    assert "repetition" not in judge_passage(GOOD + again, story()).faults


def test_an_earlier_sentence_told_again_with_a_word_changed_is_a_retelling() -> None:
    earlier = "Mara looked at the boat one last time, as if to make sure she would not lose it."
    text = f"{GOOD} Mara looked at the boat one last time, as if to makesure she would not lose it."
    assert "retelling" in judge_passage(text, story(recent=(earlier,))).faults
    assert "retelling" not in judge_passage(GOOD, story(recent=(earlier,))).faults


def test_named_characters_carried_and_dropped() -> None:
    opening = THIRD + " Her brother Tomas waited in the boathouse with Elsie."
    verdict = judge_passage(GOOD + " Tomas was nowhere to be seen.", story(opening))
    assert verdict.characters_carried == ("Tomas",)
    assert "Elsie" in verdict.characters_dropped


def test_the_score_orders_attempts_by_how_bad_they_are() -> None:
    good = judge_passage(GOOD, story())
    cut = judge_passage(GOOD + " She ran to the", story())
    meta = judge_passage("Sure! Here is the next passage of your story. " + GOOD, story())
    assert good.score < cut.score < meta.score


def test_a_summary_states_events_and_never_describes_the_text() -> None:
    events = "Mara climbs the lighthouse, sees a boat at night and runs down to meet it."
    assert judge_summary(events, story()).faults == ()
    for text in (
        "This passage describes Mara climbing the lighthouse.",
        "The story summary ends with Mara running down the stairs.",
        "In this paragraph, Mara sees a boat.",
    ):
        assert "meta" in judge_summary(text, story()).faults, text
    assert "cutoff" in judge_summary("Mara climbs the lighthouse and", story()).faults


def labelled() -> list[dict]:
    with LABELLED.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def ledger_of(passages: list[str]) -> tuple[LedgerEntry, ...]:
    """The ledger as the engine builds it: each passage read in turn against the names known
    so far; an entry found again under the same key (in any case) takes the newer kind and text
    and counts one mention more, as the store keeps it."""
    kept: dict[str, LedgerEntry] = {}
    for passage in passages:
        for entry in read_ledger(passage, [e.name for e in kept.values()]):
            key = entry.key.lower()
            if key in kept:
                old = kept[key]
                entry = replace(old, kind=entry.kind, text=entry.text, mentions=old.mentions + 1)
            kept[key] = entry
    return tuple(sorted(kept.values(), key=lambda e: -e.mentions))


def verdict_of(record: dict) -> Verdict:
    earlier = record.get("earlier", [])
    view = StoryView(
        record["opening"],
        record["summary"],
        tuple(record["recent"]),
        record["person"],
        earlier=tuple(earlier),
        ledger=ledger_of([record["opening"], *earlier, *record["recent"]]),
        beat=record.get("beat", ""),
    )
    return judge_passage(record["text"], view)


def test_the_labelled_set_is_big_enough_and_varied() -> None:
    records = labelled()
    assert len(records) >= 60
    assert sum(not r["faults"] for r in records) >= 15
    for fault in FAULTS:
        if fault not in UNHELD:
            assert sum(fault in r["faults"] for r in records) >= 5, fault


def test_the_judge_agrees_with_the_hand_labels(report: list[str]) -> None:
    records = labelled()
    verdicts = [verdict_of(r) for r in records]
    lines = [f"judge against {len(records)} hand-labelled passages (tests/data/passages.jsonl)"]
    lines.append(f"{'fault':<11} {'labelled':>8} {'found':>6} {'precision':>9} {'recall':>7}")
    missed = []
    for fault in FAULTS:
        labelled_ = [fault in r["faults"] for r in records]
        found = [fault in v.faults for v in verdicts]
        hits = sum(a and b for a, b in zip(labelled_, found, strict=True))
        precision = hits / sum(found) if any(found) else 1.0
        recall = hits / sum(labelled_) if any(labelled_) else 1.0
        lines.append(
            f"{fault:<11} {sum(labelled_):>8} {sum(found):>6} {precision:>9.2f} {recall:>7.2f}"
        )
        if fault not in UNHELD and (precision < PRECISION_BAR or recall < RECALL_BAR):
            missed.append(f"{fault}: precision {precision:.2f}, recall {recall:.2f}")
    good = sum(not r["faults"] and v.ok for r, v in zip(records, verdicts, strict=True))
    lines.append(
        f"fault-free passages judged fault-free: {good} of {sum(not r['faults'] for r in records)}"
    )
    report.extend(lines)
    assert not missed, f"below precision {PRECISION_BAR} or recall {RECALL_BAR}: {missed}"


def test_empty_text_is_a_stub_cut_off_and_does_not_raise() -> None:
    verdict = judge_passage(" \n ", story())
    assert {"stub", "cutoff"} <= set(verdict.faults)
    assert verdict.recycled_span == ""


def test_words_of_another_script_inside_english_prose_are_debris() -> None:
    slipped = GOOD + " Mara saw a light from另一个 direction."
    assert debris(slipped) == ("另一个",)
    assert "debris" in judge_passage(slipped, story()).faults
    assert "debris" not in judge_passage(GOOD, story()).faults
    assert debris("她走进了灯塔，看见Mira站在窗前。灯光很暗，海浪拍打着岩石。") == ()


def test_a_template_s_unfilled_blank_is_debris_and_a_bracketed_aside_is_not() -> None:
    assert debris('I opened the letter: "Dear [Name], we have heard about Admiral."') == ("[Name]",)
    assert debris("She signed it [Your Name] and sent it on [Insert date].") == ("[Your Name]",)
    assert debris("The note said [yours, not mine] in her hand.") == ()


def test_a_summary_may_speak_of_the_narrator() -> None:
    summary = "The narrator woke forty years early and found tank 117 open."
    assert judge_summary(summary, story()).ok
