from bot.ballots.tones import tone_request
from bot.store import Reaction


def vote(member: int, emoji: str, at: float, added: bool = True) -> Reaction:
    return Reaction(member, emoji, added, at)


def test_tone_request_counts_distinct_members_most_asked_first():
    nudges = [
        vote(1, "💬", 1),
        vote(1, "😱", 2),
        vote(2, "😱", 3),
        vote(3, "😱", 4),
        vote(3, "😱", 5),
        vote(4, "💬", 6),
        vote(4, "💬", 7, added=False),
        vote(5, "👍", 8),
    ]
    assert tone_request(nudges) == "more tension (3), more dialogue (1)"
    assert tone_request([]) == ""
