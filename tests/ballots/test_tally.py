from bot.ballots.tally import canonical, tally
from bot.store import Reaction

OPTIONS = ["1️⃣", "2️⃣", "3️⃣", "🔁"]


def vote(member: int, emoji: str, at: float, added: bool = True) -> Reaction:
    return Reaction(member, emoji, added, at)


def test_the_option_with_most_votes_wins():
    result = tally([vote(1, "2️⃣", 1), vote(2, "2️⃣", 2), vote(3, "1️⃣", 3)], OPTIONS)
    assert result.winner == "2️⃣" and result.counts == {"1️⃣": 1, "2️⃣": 2, "3️⃣": 0, "🔁": 0}
    assert result.votes == {1: "2️⃣", 2: "2️⃣", 3: "1️⃣"}


def test_a_members_newest_reaction_is_their_vote():
    result = tally([vote(1, "1️⃣", 1), vote(1, "3️⃣", 2)], OPTIONS)
    assert result.counts["1️⃣"] == 0 and result.counts["3️⃣"] == 1 and result.winner == "3️⃣"


def test_removing_the_newest_reaction_withdraws_the_vote():
    events = [vote(1, "1️⃣", 1), vote(1, "3️⃣", 2), vote(1, "3️⃣", 3, added=False)]
    assert tally(events, OPTIONS).winner is None
    older_removed = [vote(1, "1️⃣", 1), vote(1, "3️⃣", 2), vote(1, "1️⃣", 3, added=False)]
    assert tally(older_removed, OPTIONS).votes == {1: "3️⃣"}


def test_reactions_that_are_not_options_are_ignored():
    result = tally([vote(1, "😂", 1), vote(2, "2️⃣", 2), vote(2, "👍", 3)], OPTIONS)
    assert result.votes == {2: "2️⃣"}


def test_a_tie_goes_to_the_option_that_reached_the_tied_count_first():
    events = [vote(1, "2️⃣", 1), vote(2, "1️⃣", 2), vote(3, "1️⃣", 3), vote(4, "2️⃣", 4)]
    assert tally(events, OPTIONS).winner == "1️⃣"
    later = [vote(1, "2️⃣", 1), vote(2, "2️⃣", 2), vote(3, "1️⃣", 3), vote(4, "1️⃣", 4)]
    assert tally(later, OPTIONS).winner == "2️⃣"


def test_a_tie_counts_when_the_count_was_reached_again_after_a_withdrawal():
    events = [
        vote(1, "1️⃣", 1),
        vote(2, "2️⃣", 2),
        vote(1, "1️⃣", 3, added=False),
        vote(1, "1️⃣", 4),
    ]
    assert tally(events, OPTIONS).winner == "2️⃣"


def test_no_votes_means_no_winner():
    assert tally([], OPTIONS).winner is None
    assert tally([vote(1, "1️⃣", 1), vote(1, "1️⃣", 2, added=False)], OPTIONS).winner is None


def test_canonical_ignores_variation_selectors():
    assert canonical("⚔", ["⚔️", "💬"]) == "⚔️"
    assert canonical("1⃣", OPTIONS) == "1️⃣"
    assert canonical("👍", OPTIONS) == "👍"
