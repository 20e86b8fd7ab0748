"""Run the `automuse` command with discord.py's REST and gateway pointed at a fake Discord.

    python -m tests.discord_fake.run_bot http://127.0.0.1:PORT run --shard-count 2 --shards 0

Only the two base URLs change; the bot and discord.py run unmodified.
"""

from __future__ import annotations

import sys

import discord
import yarl
from discord.gateway import DiscordWebSocket

from bot.cli import main


def point_discord_at(url: str) -> None:
    """Send discord.py's REST calls and gateway connections to the fake served at `url`."""
    discord.http.Route.BASE = f"{url}/api/v10"
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url.replace("http://", "ws://", 1) + "/gateway")


if __name__ == "__main__":
    point_discord_at(sys.argv[1])
    sys.exit(main(sys.argv[2:]))
