"""The errors a story operation reports: each message is one sentence a member can read."""

from __future__ import annotations


class StoryError(Exception):
    """Something a member asked for cannot be done; the message says why in one sentence."""


class NotFound(StoryError):
    pass


class Busy(StoryError):
    pass


class CoolingDown(StoryError):
    """The member asked again too soon."""


class InvalidInput(StoryError):
    pass


class GenerationFailed(StoryError):
    """The model failed; the story is unchanged."""
