"""The quality benchmark's report."""

from collections import defaultdict

import pytest

from bench.quality_figures import names_one_of, report


def test_the_targets_are_printed_for_the_chosen_configuration_not_the_last(
    capsys: pytest.CaptureFixture[str],
) -> None:
    summaries = {"chosen": 0.95, "last": 0.5}
    data = {
        "configurations": {
            name: {"summary": defaultdict(float, good_rate=good, passages=96)}
            for name, good in summaries.items()
        }
    }
    report(data, "chosen")
    targets = [line for line in capsys.readouterr().out.splitlines() if line.startswith("target")]
    assert targets and all(line.startswith("target chosen ") for line in targets)
    assert "target chosen good_rate >= 0.9: 0.950 (met)" in targets


def test_a_character_is_named_by_a_word_of_the_name():
    cast = ["Commander Ines Valdór", "Drone Fourteen"]
    assert names_one_of("Ines looked up from the console.", cast)
    assert not names_one_of("The Commander looked up from the console.", cast)
    assert names_one_of("Nobody came.", [])
