"""An in-memory Discord (REST + gateway) that a real, unmodified discord.py bot logs into.

Typical end-to-end test, with the fixtures from ``fixtures.py``::

    async def test_story(fake_discord, bot_runner):
        bot = await bot_runner.start(make_bot())  # built with guild_ready_timeout=0.1
        ix = await fake_discord.invoke(
            "story start", {"opening": "It was foggy."},
            user=fake_discord.member("alice"), channel=fake_discord.channel("story"),
        )
        await fake_discord.wait_for(lambda: ix.messages)
        assert not ix.messages[0].pings()
"""

from .errors import DiscordError
from .fake import FakeDiscord
from .state import (
    Attachment,
    Channel,
    Edit,
    Flag,
    Guild,
    Intent,
    Interaction,
    Member,
    Message,
    Perm,
    Pings,
    Role,
    User,
)

__all__ = [
    "Attachment",
    "Channel",
    "DiscordError",
    "Edit",
    "FakeDiscord",
    "Flag",
    "Guild",
    "Intent",
    "Interaction",
    "Member",
    "Message",
    "Perm",
    "Pings",
    "Role",
    "User",
]
