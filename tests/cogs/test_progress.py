"""What members see for each step of the engine's progress (pure wording)."""

from bot.progress import Step
from cogs._progress import describe_step


def test_each_step_reads_as_a_short_status_line():
    assert describe_step(Step("writing", 1, 3)) == "✍️ Writing 3 candidates…"
    assert describe_step(Step("writing")) == "✍️ Writing…"
    assert describe_step(Step("checking")).startswith("🔍 Checking it")
    assert describe_step(Step("rewriting", 2, 3)).endswith("(attempt 2 of 3)…")
    assert describe_step(Step("summarising")) == (
        "📜 Summarising the story so far and planning what comes next…"
    )


def test_a_streamed_passage_shows_under_its_header_and_never_passes_2000_characters():
    assert describe_step(Step("writing", text=" The fog came in "), "**§2**") == (
        "**§2**\nThe fog came in …"
    )
    long = describe_step(Step("writing", text="word " * 1000), "**§2**")
    assert len(long) <= 2000 and long.startswith("**§2**\nword") and long.endswith(" …")
