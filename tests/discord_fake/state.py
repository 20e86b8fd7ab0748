"""In-memory model of the Discord objects the fake server knows about, and their JSON forms."""

from __future__ import annotations

import datetime
import enum
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

DISCORD_EPOCH_MS = 1_420_070_400_000
MENTION = re.compile(r"<@([!&]?)(\d+)>")


class Flag(enum.IntFlag):
    """Message flags the fake cares about."""

    EPHEMERAL = 1 << 6
    LOADING = 1 << 7


def sum_bits(values: Iterable[int]) -> int:
    """Every bit set in any of `values`."""
    found = 0
    for value in values:
        found |= value
    return found


class Perm(enum.IntFlag):
    """Permission bits the fake enforces."""

    ADD_REACTIONS = 1 << 6
    ADMINISTRATOR = 1 << 3
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    READ_MESSAGE_HISTORY = 1 << 16
    ALL = (1 << 53) - 1


class Intent(enum.IntFlag):
    """Gateway intent bits that decide which events a session receives."""

    GUILDS = 1 << 0
    GUILD_MEMBERS = 1 << 1
    GUILD_PRESENCES = 1 << 8
    GUILD_MESSAGES = 1 << 9
    GUILD_MESSAGE_REACTIONS = 1 << 10
    MESSAGE_CONTENT = 1 << 15
    PRIVILEGED = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT


class Snowflakes:
    """Monotonic snowflake ids whose timestamp part is the current time."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        now = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last = max(self._last + 1, now)
        return self._last

    def next_on_shard(self, shard_id: int, shard_count: int) -> int:
        """The next id whose guild would live on ``shard_id`` of ``shard_count`` shards
        (its timestamp moves on by at most ``shard_count - 1`` milliseconds)."""
        candidate = self.next()
        millis = (candidate >> 22) + (shard_id - (candidate >> 22)) % shard_count
        self._last = max(candidate, millis << 22)
        return self._last


def snowflake_time(snowflake: int) -> datetime.datetime:
    """The creation time encoded in a snowflake."""
    ms = (snowflake >> 22) + DISCORD_EPOCH_MS
    return datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.UTC)


def iso(moment: datetime.datetime) -> str:
    return moment.isoformat()


def emoji_dict(emoji: str) -> dict[str, Any]:
    """The emoji object for a reaction key: ``"👍"`` or ``"name:id"`` for custom emoji."""
    name, _, emoji_id = emoji.partition(":")
    if emoji_id:
        return {"id": emoji_id, "name": name, "animated": False}
    return {"id": None, "name": emoji}


@dataclass(eq=False)
class User:
    id: int
    username: str
    bot: bool = False
    global_name: str | None = None

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
        }


@dataclass(eq=False)
class Role:
    id: int
    name: str
    permissions: int = 0
    position: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }


@dataclass(eq=False)
class Member:
    user: User
    guild: Guild
    roles: list[Role] = field(default_factory=list)
    joined_at: datetime.datetime = field(
        default_factory=lambda: datetime.datetime.now(datetime.UTC)
    )
    nick: str | None = None

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def mention(self) -> str:
        return self.user.mention

    @property
    def permissions(self) -> int:
        return self.guild.permissions_for(self)

    def has(self, permission: Perm) -> bool:
        return self.permissions & permission == permission

    def to_dict(self, *, with_user: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "roles": [str(role.id) for role in self.roles],
            "joined_at": iso(self.joined_at),
            "nick": self.nick,
            "avatar": None,
            "flags": 0,
            "deaf": False,
            "mute": False,
            "pending": False,
            "premium_since": None,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user.to_dict()
        return data


@dataclass(eq=False)
class Channel:
    id: int
    guild: Guild
    name: str
    position: int = 0
    topic: str | None = None
    messages: list[Message] = field(default_factory=list)
    overwrites: dict[int, tuple[int, int]] = field(default_factory=dict)
    """Permission overwrites by role or member id: (allow, deny)."""
    parent: Channel | None = None
    """The channel a thread belongs to; None for a channel."""
    archived: bool = False

    def permissions_for(self, member: Member) -> int:
        """The member's permissions here, as Discord computes them: the guild's, then the
        @everyone overwrite, the member's roles' overwrites together, and the member's own.
        A thread has its parent channel's."""
        if self.parent is not None:
            return self.parent.permissions_for(member)
        value = self.guild.permissions_for(member)
        if value == Perm.ALL:
            return value
        allow, deny = self.overwrites.get(self.guild.id, (0, 0))
        value = (value & ~deny) | allow
        roles = [self.overwrites[r.id] for r in member.roles if r.id in self.overwrites]
        value &= ~sum_bits(d for _, d in roles)
        value |= sum_bits(a for a, _ in roles)
        allow, deny = self.overwrites.get(member.id, (0, 0))
        return (value & ~deny) | allow

    def to_dict(self) -> dict[str, Any]:
        member_ids = {member_id for member_id in self.guild.members}
        thread = {}
        if self.parent is not None:
            thread = {
                "owner_id": str(self.guild.owner_id),
                "message_count": len(self.messages),
                "member_count": 1,
                "thread_metadata": {
                    "archived": self.archived,
                    "auto_archive_duration": 1440,
                    "archive_timestamp": iso(datetime.datetime.now(datetime.UTC)),
                    "locked": False,
                },
            }
        return {
            **thread,
            "id": str(self.id),
            "type": 0 if self.parent is None else 11,
            "guild_id": str(self.guild.id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [
                {
                    "id": str(target),
                    "type": 1 if target in member_ids else 0,
                    "allow": str(allow),
                    "deny": str(deny),
                }
                for target, (allow, deny) in self.overwrites.items()
            ],
            "topic": self.topic,
            "nsfw": False,
            "parent_id": None if self.parent is None else str(self.parent.id),
            "rate_limit_per_user": 0,
            "last_message_id": str(self.messages[-1].id) if self.messages else None,
        }


@dataclass(eq=False)
class Guild:
    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)

    @property
    def everyone(self) -> Role:
        return self.roles[self.id]

    def permissions_for(self, member: Member) -> int:
        """Base guild permissions: owner and administrators get everything."""
        if member.id == self.owner_id:
            return Perm.ALL
        value = self.everyone.permissions
        for role in member.roles:
            value |= role.permissions
        return Perm.ALL if value & Perm.ADMINISTRATOR else value

    def to_dict(self) -> dict[str, Any]:
        """The full GUILD_CREATE payload."""
        return {
            "id": str(self.id),
            "name": self.name,
            "owner_id": str(self.owner_id),
            "unavailable": False,
            "large": False,
            "member_count": len(self.members),
            "members": [member.to_dict() for member in self.members.values()],
            "channels": [c.to_dict() for c in self.channels.values() if c.parent is None],
            "roles": [role.to_dict() for role in self.roles.values()],
            "threads": [c.to_dict() for c in self.channels.values() if c.parent is not None],
            "presences": [],
            "voice_states": [],
            "emojis": [],
            "stickers": [],
            "features": [],
            "icon": None,
            "preferred_locale": "en-US",
            "joined_at": iso(snowflake_time(self.id)),
        }


@dataclass(eq=False)
class Attachment:
    id: int
    filename: str
    data: bytes
    url: str
    content_type: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "filename": self.filename,
            "size": len(self.data),
            "url": self.url,
            "proxy_url": self.url,
            "content_type": self.content_type,
        }


@dataclass(frozen=True)
class Pings:
    """Who a message notifies; falsy when nobody is pinged."""

    everyone: bool = False
    users: frozenset[int] = frozenset()
    roles: frozenset[int] = frozenset()

    def __bool__(self) -> bool:
        return self.everyone or bool(self.users) or bool(self.roles)


@dataclass(frozen=True)
class Edit:
    """One edit of a message: when it arrived (``time.monotonic()``) and the content it set."""

    at: float
    content: str
    resolved_loading: bool = False
    """True for the edit that replaced a deferred response's "thinking…" placeholder."""


@dataclass(eq=False)
class Message:
    id: int
    channel: Channel
    author: User
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    flags: int = 0
    allowed_mentions: dict[str, Any] | None = None
    reference: Message | None = None
    type: int = 0
    interaction: Interaction | None = None
    reactions: dict[str, list[int]] = field(default_factory=dict)
    edited_at: datetime.datetime | None = None
    edits: list[Edit] = field(default_factory=list)
    created: float = field(default_factory=time.monotonic)
    """When the fake stored it (``time.monotonic()``), to compare with its edits."""
    deleted: bool = False

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & Flag.EPHEMERAL)

    @property
    def loading(self) -> bool:
        """True for a deferred response's "thinking…" placeholder."""
        return bool(self.flags & Flag.LOADING)

    @property
    def guild(self) -> Guild:
        return self.channel.guild

    def reactors(self, emoji: str) -> list[int]:
        """Ids of the users who reacted with ``emoji``, in the order they reacted."""
        return list(self.reactions.get(emoji, []))

    def pings(self) -> Pings:
        """Who this message notifies, given its content and effective ``allowed_mentions``.

        Without ``allowed_mentions`` Discord parses everything and pings a replied-to author.
        """
        allowed = self.allowed_mentions
        parse = {"everyone", "users", "roles"} if allowed is None else set(allowed.get("parse", []))
        explicit_users = {int(i) for i in (allowed or {}).get("users", [])}
        explicit_roles = {int(i) for i in (allowed or {}).get("roles", [])}
        users: set[int] = set()
        roles: set[int] = set()
        for kind, raw_id in MENTION.findall(self.content):
            target = int(raw_id)
            if kind == "&":
                if "roles" in parse or target in explicit_roles:
                    roles.add(target)
            elif "users" in parse or target in explicit_users:
                users.add(target)
        if self.reference is not None and (allowed is None or allowed.get("replied_user")):
            users.add(self.reference.author.id)
        everyone = "everyone" in parse and ("@everyone" in self.content or "@here" in self.content)
        return Pings(everyone, frozenset(users), frozenset(roles))

    def to_dict(self, viewer_id: int, *, content_visible: bool = True) -> dict[str, Any]:
        """The message object as ``viewer_id`` (the bot) sees it."""
        pings = self.pings()
        guild = self.guild
        visible = content_visible or self.author.id == viewer_id or viewer_id in pings.users
        data: dict[str, Any] = {
            "id": str(self.id),
            "channel_id": str(self.channel.id),
            "guild_id": str(guild.id),
            "author": self.author.to_dict(),
            "content": self.content if visible else "",
            "timestamp": iso(snowflake_time(self.id)),
            "edited_timestamp": iso(self.edited_at) if self.edited_at else None,
            "tts": False,
            "mention_everyone": pings.everyone,
            "mentions": [
                guild.members[i].user.to_dict() for i in pings.users if i in guild.members
            ],
            "mention_roles": [str(i) for i in pings.roles],
            "attachments": [a.to_dict() for a in self.attachments] if visible else [],
            "embeds": self.embeds if visible else [],
            "components": self.components if visible else [],
            "reactions": [
                {
                    "emoji": emoji_dict(emoji),
                    "count": len(users),
                    "count_details": {"burst": 0, "normal": len(users)},
                    "me": viewer_id in users,
                    "me_burst": False,
                    "burst_colors": [],
                }
                for emoji, users in self.reactions.items()
            ],
            "pinned": False,
            "type": self.type,
            "flags": self.flags,
        }
        if self.author.id in guild.members:
            data["member"] = guild.members[self.author.id].to_dict(with_user=False)
        if self.reference is not None:
            data["message_reference"] = {
                "type": 0,
                "message_id": str(self.reference.id),
                "channel_id": str(self.reference.channel.id),
                "guild_id": str(guild.id),
            }
        if self.interaction is not None:
            data["webhook_id"] = data["application_id"] = str(self.author.id)
            data["interaction_metadata"] = {
                "id": str(self.interaction.id),
                "type": 2,
                "user": self.interaction.user.user.to_dict(),
                "authorizing_integration_owners": {"0": str(guild.id)},
                "name": self.interaction.command,
                "command_type": 1,
            }
        return data


@dataclass(eq=False)
class Interaction:
    """A slash-command invocation and everything the bot did in answer to it."""

    id: int
    token: str
    command: str
    options: dict[str, Any]
    user: Member
    channel: Channel
    deadline: float
    payload: dict[str, Any]
    response_type: int | None = None
    response: dict[str, Any] | None = None
    original: Message | None = None
    followups: list[Message] = field(default_factory=list)

    @property
    def acknowledged(self) -> bool:
        return self.response_type is not None

    @property
    def failed(self) -> bool:
        """True when no initial response arrived before the deadline ("did not respond")."""
        return not self.acknowledged and time.monotonic() >= self.deadline

    @property
    def deferred(self) -> bool:
        """True while the response is still the "thinking…" placeholder."""
        return self.original is not None and self.original.loading

    @property
    def messages(self) -> list[Message]:
        """Every visible, resolved message of this interaction: original first, then followups."""
        candidates = [self.original, *self.followups]
        return [m for m in candidates if m is not None and not m.loading and not m.deleted]
