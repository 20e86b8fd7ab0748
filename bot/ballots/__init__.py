"""Ballots: members choose the next passage, or the direction it takes, by voting with
reactions (`service`), counted by `tally`; tone reactions nudge the next passage (`tones`).

Nothing is imported here, so that the pure modules can be used below the engine that the
service drives.
"""
