"""Small helpers for the wording of messages to members."""


def plural(count: int, noun: str, many: str = "") -> str:
    """`count` with `noun` in the right number: "1 vote", "3 votes", "2 passages"."""
    return f"{count:,} {noun if count == 1 else many or noun + 's'}"
