"""What the writer, the judge and the planner read of a story."""

from bot.ledger import read_ledger
from bot.reading import named
from bot.store.records import LoreEntry


def test_the_cast_is_members_lore_then_the_ledger_and_never_the_narrator():
    opening = (
        'I woke early. "Engineer Sato, you have been revived," the ship said. '
        "I pulled on my suit. Shinichi was already awake, and Mira slept on at Carrow Head."
    )
    lore = [LoreEntry(1, 1, "character", "Old Tom", ("tom",), "The keeper.")]
    assert named("character", lore, read_ledger(opening)) == ("Old Tom", "Shinichi", "Mira")
    assert named("place", lore, read_ledger(opening)) == ("Carrow Head",)
