"""FakeDiscord: the in-memory Discord that a real discord.py bot logs into."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import secrets
import time
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import WSMsgType, web

from .commands import invocation_data, undocumented
from .errors import (
    bad_request,
    invalid_form,
    missing_permissions,
    not_found,
    validate_commands,
    validate_message_body,
)
from .gateway import HEARTBEAT_INTERVAL_MS, GatewaySession, frame, owning_shard
from .ratelimits import RateLimiter, RouteLimit
from .rest import build_app
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
    Role,
    Snowflakes,
    User,
    emoji_dict,
)

T = TypeVar("T")

EVERYONE_PERMISSIONS = (
    Perm.VIEW_CHANNEL | Perm.SEND_MESSAGES | Perm.ADD_REACTIONS | Perm.READ_MESSAGE_HISTORY
)
REACTION_LIMIT = 20
POLL_INTERVAL = 0.05


class FakeDiscord:
    """An in-memory Discord: REST API and gateway for one bot application.

    Build the world with ``add_guild``/``add_channel``/``add_member``/``add_role``, ``start()``
    the server, point discord.py at ``api_base``/``gateway_url``, then act as users with
    ``invoke``/``react``/``unreact``/``post_message`` and observe with ``wait_for``.
    """

    def __init__(
        self,
        *,
        token: str = "fake-token",
        bot_name: str = "AutoMuse",
        interaction_deadline: float = 3.0,
        privileged_intents: int = 0,
        shard_count: int = 1,
    ) -> None:
        """``shard_count`` is what ``GET /gateway/bot`` recommends; bots may use any count."""
        self.token = token
        self.shard_count = shard_count
        self.interaction_deadline = interaction_deadline
        self.privileged_intents = privileged_intents
        self.ids = Snowflakes()
        self.bot_user = User(self.ids.next(), bot_name, bot=True)
        self.users: dict[int, User] = {self.bot_user.id: self.bot_user}
        self.guilds: dict[int, Guild] = {}
        self.messages: dict[int, Message] = {}
        self.attachments: dict[int, Attachment] = {}
        self.interactions: dict[int, Interaction] = {}
        self.commands: dict[int | None, list[dict[str, Any]]] = {}
        self.identifies: list[dict[str, Any]] = []
        self.resumes = 0
        self.problems: list[str] = []
        self.rate_limits = RateLimiter()
        self.url = ""
        self._sessions: list[GatewaySession] = []
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def application_id(self) -> int:
        return self.bot_user.id

    @property
    def api_base(self) -> str:
        return f"{self.url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return self.url.replace("http://", "ws://", 1) + "/gateway"

    @property
    def bot_connected(self) -> bool:
        return any(session.connected for session in self._sessions)

    @property
    def connections(self) -> int:
        """How many gateway sessions are connected (one per shard a bot runs)."""
        return sum(session.connected for session in self._sessions)

    def shard_connected(self, guild: Guild) -> bool:
        """Whether a connected session's shard owns ``guild``."""
        return any(s.connected and s.owns(guild.id) for s in self._sessions)

    def shards_connected(self) -> set[tuple[int, int]]:
        """The ``(shard_id, shard_count)`` of every connected session."""
        return {session.shard for session in self._sessions if session.connected}

    def shard_of(self, guild: Guild, shard_count: int | None = None) -> int:
        """The shard that receives ``guild``'s events (of ``shard_count``, default the fake's)."""
        return owning_shard(guild.id, shard_count or self.shard_count)

    @property
    def intents(self) -> int:
        """Intents of the most recent IDENTIFY (0 before any)."""
        return self.identifies[-1].get("intents", 0) if self.identifies else 0

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve on ``host:port`` (0 picks a free port); sets ``url``."""
        self._runner = web.AppRunner(build_app(self))
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        self.url = f"http://{bound_host}:{bound_port}"

    async def stop(self) -> None:
        await self.disconnect_bot(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- building the world --------------------------------------------------------------------

    def add_guild(self, name: str, *, owner: str = "owner", shard: int | None = None) -> Guild:
        """A guild with an @everyone role, an owner member, and the bot as a member; ``shard``
        places it on that shard of the fake's ``shard_count``."""
        owner_user = self._new_user(owner)
        guild_id = (
            self.ids.next() if shard is None else self.ids.next_on_shard(shard, self.shard_count)
        )
        guild = Guild(guild_id, name, owner_user.id)
        guild.roles[guild.id] = Role(guild.id, "@everyone", EVERYONE_PERMISSIONS)
        self.guilds[guild.id] = guild
        guild.members[owner_user.id] = Member(owner_user, guild)
        bot_role = self.add_role(guild, self.bot_user.username)
        guild.members[self.bot_user.id] = Member(self.bot_user, guild, [bot_role])
        return guild

    def add_role(self, guild: Guild, name: str, permissions: int = 0) -> Role:
        role = Role(self.ids.next(), name, int(permissions), position=len(guild.roles))
        guild.roles[role.id] = role
        return role

    def add_channel(self, guild: Guild, name: str, *, topic: str | None = None) -> Channel:
        channel = Channel(self.ids.next(), guild, name, len(guild.channels), topic)
        guild.channels[channel.id] = channel
        return channel

    def add_thread(self, parent: Channel, name: str) -> Channel:
        """A public thread in `parent`, with its parent's permissions."""
        thread = Channel(self.ids.next(), parent.guild, name, 0, parent=parent)
        parent.guild.channels[thread.id] = thread
        return thread

    def add_member(self, guild: Guild, username: str, *, roles: tuple[Role, ...] = ()) -> Member:
        member = Member(self._new_user(username), guild, list(roles))
        guild.members[member.id] = member
        return member

    def _new_user(self, username: str) -> User:
        user = User(self.ids.next(), username)
        self.users[user.id] = user
        return user

    # -- looking things up ---------------------------------------------------------------------

    def channel(self, name: str) -> Channel:
        """The text channel called ``name`` (in any guild)."""
        for guild in self.guilds.values():
            for channel in guild.channels.values():
                if channel.name == name:
                    return channel
        raise KeyError(name)

    def member(self, username: str) -> Member:
        """The member whose username is ``username`` (in any guild)."""
        for guild in self.guilds.values():
            for member in guild.members.values():
                if member.user.username == username:
                    return member
        raise KeyError(username)

    def bot_member(self, guild: Guild) -> Member:
        return guild.members[self.bot_user.id]

    def find_channel(self, channel_id: int) -> Channel:
        for guild in self.guilds.values():
            if channel_id in guild.channels:
                return guild.channels[channel_id]
        raise not_found(10003, "Channel")

    def limit_route(self, method: str, route: str, *, limit: int, per: float) -> RouteLimit:
        """Allow ``limit`` requests per ``per`` seconds on ``method route`` (written as in the API
        docs, e.g. ``/channels/{channel_id}/messages``) for each channel, guild or webhook."""
        return self.rate_limits.add(method, route, limit, per)

    def registered_commands(self, guild: Guild | None = None) -> list[dict[str, Any]]:
        """What the bot last registered globally (``guild=None``) or for ``guild``."""
        return self.commands.get(guild.id if guild else None, [])

    def register_commands(
        self, guild_id: int | None, commands: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Bulk-overwrite the commands of a scope; names keep their ids, like Discord."""
        validate_commands(commands)
        previous = {c["name"]: c["id"] for c in self.commands.get(guild_id, [])}
        stored = []
        for command in commands:
            entry = {
                **command,
                "id": previous.get(command["name"]) or str(self.ids.next()),
                "application_id": str(self.application_id),
                "version": str(self.ids.next()),
                "type": command.get("type", 1),
                "description": command.get("description", ""),
            }
            if guild_id is not None:
                entry["guild_id"] = str(guild_id)
            stored.append(entry)
        self.commands[guild_id] = stored
        self._notify()
        return stored

    def undocumented_commands(self) -> list[str]:
        """Qualified names of registered commands/options whose description is empty or '…'."""
        return undocumented(self.commands)

    # -- observing -----------------------------------------------------------------------------

    async def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:
        """Return the first truthy value of ``predicate()``, re-checked on every state change."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            changed = self._changed
            result = predicate()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout}s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), min(remaining, POLL_INTERVAL))

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    # -- acting as users -----------------------------------------------------------------------

    async def invoke(
        self,
        command: str,
        options: dict[str, Any] | None = None,
        *,
        user: Member,
        channel: Channel,
    ) -> Interaction:
        """Run slash command ``command`` (e.g. ``"story start"``) as ``user`` in ``channel``.

        Options are typed from the registered command tree; users, channels and roles are
        passed as Member/Channel/Role. Returns the recorded Interaction.
        """
        if not self.shard_connected(channel.guild):
            raise RuntimeError(f"no bot shard owning {channel.guild.name} is connected")
        if user.guild is not channel.guild:
            raise ValueError(f"{user.user.username} is not a member of {channel.guild.name}")
        data = invocation_data(self.commands, command, options or {}, channel.guild)
        return await self._dispatch_interaction(command, options or {}, data, user, channel)

    async def react(self, message: Message | int, emoji: str, user: Member) -> bool:
        """Add ``user``'s reaction; False if it was already there. Dispatched if a bot is online."""
        message = self._message(message)
        if user.guild is not message.guild:
            raise ValueError(f"{user.user.username} is not a member of {message.guild.name}")
        return await self.add_reaction(message, emoji, user)

    async def unreact(self, message: Message | int, emoji: str, user: Member) -> bool:
        """Remove ``user``'s reaction; False if there was none."""
        return await self.remove_reaction(self._message(message), emoji, user.id)

    async def post_message(
        self,
        channel: Channel,
        author: Member,
        content: str,
        *,
        reply_to: Message | None = None,
    ) -> Message:
        """Post a message as a member (dispatches MESSAGE_CREATE)."""
        body: dict[str, Any] = {"content": content}
        if reply_to is not None:
            body["message_reference"] = {"message_id": str(reply_to.id)}
        message = self.build_message(channel, author.user, body, {})
        await self.publish(message)
        return message

    def _message(self, message: Message | int) -> Message:
        return message if isinstance(message, Message) else self.messages[message]

    async def _dispatch_interaction(
        self,
        command: str,
        options: dict[str, Any],
        data: dict[str, Any],
        user: Member,
        channel: Channel,
    ) -> Interaction:
        guild = channel.guild
        interaction_id = self.ids.next()
        token = secrets.token_urlsafe(32)
        payload = {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "type": 2,
            "data": data,
            "guild_id": str(guild.id),
            "channel_id": str(channel.id),
            "channel": {**channel.to_dict(), "permissions": str(channel.permissions_for(user))},
            "member": {**user.to_dict(), "permissions": str(channel.permissions_for(user))},
            "token": token,
            "version": 1,
            "app_permissions": str(channel.permissions_for(self.bot_member(guild))),
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild.id)},
            "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        interaction = Interaction(
            interaction_id,
            token,
            command,
            options,
            user,
            channel,
            deadline=time.monotonic() + self.interaction_deadline,
            payload=payload,
        )
        self.interactions[interaction_id] = interaction
        await self._dispatch("INTERACTION_CREATE", guild.id, lambda _: payload)
        return interaction

    # -- messages ------------------------------------------------------------------------------

    def new_attachment(self, filename: str, data: bytes, content_type: str | None) -> Attachment:
        attachment_id = self.ids.next()
        url = f"{self.url}/attachments/{attachment_id}/{filename}"
        attachment = Attachment(attachment_id, filename, data, url, content_type)
        self.attachments[attachment_id] = attachment
        return attachment

    def build_message(
        self,
        channel: Channel,
        author: User,
        body: dict[str, Any],
        uploads: dict[int, Attachment],
        *,
        interaction: Interaction | None = None,
        flags: int = 0,
        error_path: tuple[str, ...] = (),
    ) -> Message:
        """Validate a create body and build the (not yet published) message."""
        validate_message_body(body, error_path)
        message = Message(
            self.ids.next(),
            channel,
            author,
            content=str(body.get("content") or ""),
            embeds=body.get("embeds") or [],
            attachments=_pick_attachments(body, uploads, []),
            components=body.get("components") or [],
            flags=flags,
            allowed_mentions=body.get("allowed_mentions"),
            reference=self._reference(body),
            type=20 if interaction else 0,
            interaction=interaction,
        )
        if not message.loading:
            _require_content(
                message.content, message.embeds, message.attachments, message.components
            )
        return message

    def _reference(self, body: dict[str, Any]) -> Message | None:
        reference = body.get("message_reference")
        if not reference:
            return None
        target = self.messages.get(int(reference["message_id"]))
        if target is None or target.deleted:
            raise invalid_form(
                ("message_reference",), "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message"
            )
        return target

    async def publish(self, message: Message) -> None:
        """Store a built message; non-ephemeral ones join the channel and are dispatched."""
        self.messages[message.id] = message
        if not message.ephemeral:
            message.channel.messages.append(message)
            await self._dispatch_message("MESSAGE_CREATE", message)
        self._notify()

    async def edit_message(
        self, message: Message, body: dict[str, Any], uploads: dict[int, Attachment]
    ) -> None:
        """Apply an edit body; resolves a deferred response's loading state."""
        validate_message_body(body)
        content = str(body["content"] or "") if "content" in body else message.content
        embeds = (body["embeds"] or []) if "embeds" in body else message.embeds
        attachments = _pick_attachments(body, uploads, message.attachments)
        components = (body["components"] or []) if "components" in body else message.components
        _require_content(content, embeds, attachments, components)
        if not message.loading:
            message.edited_at = datetime.datetime.now(datetime.UTC)
        message.edits.append(Edit(time.monotonic(), content, message.loading))
        message.content, message.embeds = content, embeds
        message.attachments, message.components = attachments, components
        message.allowed_mentions = body.get("allowed_mentions", message.allowed_mentions)
        message.flags &= ~Flag.LOADING
        if not message.ephemeral:
            await self._dispatch_message("MESSAGE_UPDATE", message)
        self._notify()

    async def delete_message(self, message: Message) -> None:
        message.deleted = True
        if not message.ephemeral:
            message.channel.messages.remove(message)
            data = {
                "id": str(message.id),
                "channel_id": str(message.channel.id),
                "guild_id": str(message.guild.id),
            }
            await self._dispatch("MESSAGE_DELETE", message.guild.id, lambda _: data)
        self._notify()

    def view(self, message: Message) -> dict[str, Any]:
        """A message as the bot reads it over REST (content hidden without the intent)."""
        visible = bool(self.intents & Intent.MESSAGE_CONTENT)
        return message.to_dict(self.bot_user.id, content_visible=visible)

    def channel_message(self, channel: Channel, message_id: int) -> Message:
        message = self.messages.get(message_id)
        if (
            message is None
            or message.deleted
            or message.ephemeral
            or message.channel is not channel
        ):
            raise not_found(10008, "Message")
        return message

    # -- reactions -----------------------------------------------------------------------------

    async def add_reaction(self, message: Message, emoji: str, member: Member) -> bool:
        """Record a reaction (as Discord does, also the bot's own) and dispatch it."""
        users = message.reactions.get(emoji)
        if users is None and len(message.reactions) >= REACTION_LIMIT:
            raise bad_request(30010, "Maximum number of reactions reached (20)")
        if users is not None and member.id in users:
            return False
        message.reactions.setdefault(emoji, []).append(member.id)
        event = self._reaction_event(message, emoji, member.id)
        event["member"] = member.to_dict()
        event["message_author_id"] = str(message.author.id)
        event["burst"], event["burst_colors"] = False, []
        await self._dispatch("MESSAGE_REACTION_ADD", message.guild.id, lambda _: event)
        self._notify()
        return True

    async def remove_reaction(self, message: Message, emoji: str, user_id: int) -> bool:
        users = message.reactions.get(emoji, [])
        if user_id not in users:
            return False
        users.remove(user_id)
        if not users:
            del message.reactions[emoji]
        event = self._reaction_event(message, emoji, user_id)
        event["burst"] = False
        await self._dispatch("MESSAGE_REACTION_REMOVE", message.guild.id, lambda _: event)
        self._notify()
        return True

    async def delete_channel(self, channel: Channel) -> None:
        """Delete a channel as Discord does: CHANNEL_DELETE, then 404 Unknown Channel (10003)
        on every request about it."""
        del channel.guild.channels[channel.id]
        await self._dispatch("CHANNEL_DELETE", channel.guild.id, lambda _: channel.to_dict())
        self._notify()

    async def archive_thread(self, thread: Channel) -> None:
        """Archive a thread: THREAD_UPDATE with `thread_metadata.archived` true."""
        thread.archived = True
        await self._dispatch("THREAD_UPDATE", thread.guild.id, lambda _: thread.to_dict())
        self._notify()

    async def delete_thread(self, thread: Channel) -> None:
        """Delete a thread: THREAD_DELETE, then 404 Unknown Channel on every request."""
        del thread.guild.channels[thread.id]
        assert thread.parent is not None
        event = {
            "id": str(thread.id),
            "guild_id": str(thread.guild.id),
            "parent_id": str(thread.parent.id),
            "type": 11,
        }
        await self._dispatch("THREAD_DELETE", thread.guild.id, lambda _: event)
        self._notify()

    async def remove_bot(self, guild: Guild) -> None:
        """The guild removes the bot: GUILD_DELETE (without `unavailable`), then 404 Unknown
        Channel on its channels."""
        await self._dispatch("GUILD_DELETE", guild.id, lambda _: {"id": str(guild.id)})
        guild.channels.clear()
        self._notify()

    async def clear_reactions(self, message: Message | int, emoji: str | None = None) -> None:
        """Remove every reaction from a message, or every one of `emoji`, as a moderator
        does, and dispatch MESSAGE_REACTION_REMOVE_ALL or MESSAGE_REACTION_REMOVE_EMOJI."""
        message = self._message(message)
        event: dict[str, Any] = {
            "channel_id": str(message.channel.id),
            "message_id": str(message.id),
            "guild_id": str(message.guild.id),
        }
        if emoji is None:
            message.reactions.clear()
            name = "MESSAGE_REACTION_REMOVE_ALL"
        else:
            message.reactions.pop(emoji, None)
            event["emoji"] = emoji_dict(emoji)
            name = "MESSAGE_REACTION_REMOVE_EMOJI"
        await self._dispatch(name, message.guild.id, lambda _: event)
        self._notify()

    def _reaction_event(self, message: Message, emoji: str, user_id: int) -> dict[str, Any]:
        return {
            "type": 0,
            "user_id": str(user_id),
            "channel_id": str(message.channel.id),
            "message_id": str(message.id),
            "guild_id": str(message.guild.id),
            "emoji": emoji_dict(emoji),
        }

    # -- interactions --------------------------------------------------------------------------

    def interaction_by_token(self, application_id: int, token: str) -> Interaction:
        """The interaction behind a followup webhook; it must have been acknowledged."""
        if application_id == self.application_id:
            for interaction in self.interactions.values():
                if interaction.token == token and interaction.acknowledged:
                    return interaction
        raise not_found(10015, "Webhook")

    async def respond(
        self,
        interaction: Interaction,
        body: dict[str, Any],
        uploads: dict[int, Attachment],
    ) -> dict[str, Any]:
        """Handle the initial interaction callback; returns the callback response body."""
        if interaction.failed:
            raise not_found(10062, "interaction")
        if interaction.acknowledged:
            raise bad_request(40060, "Interaction has already been acknowledged.")
        kind = body["type"]
        data = body.get("data") or {}
        message = None
        if kind in (4, 5):
            flags = data.get("flags", 0) & Flag.EPHEMERAL | (Flag.LOADING if kind == 5 else 0)
            content_body = data if kind == 4 else {}
            message = self.build_message(
                interaction.channel,
                self.bot_user,
                content_body,
                uploads,
                interaction=interaction,
                flags=flags,
                error_path=("data",),
            )
        interaction.response_type = kind
        interaction.response = body
        resource: dict[str, Any] = {"type": kind}
        callback: dict[str, Any] = {"id": str(interaction.id), "type": 2}
        if message is not None:
            interaction.original = message
            await self.publish(message)
            resource["message"] = self.view(message)
            callback["response_message_id"] = str(message.id)
            callback["response_message_loading"] = message.loading
            callback["response_message_ephemeral"] = message.ephemeral
        self._notify()
        return {"interaction": callback, "resource": resource}

    async def followup(
        self,
        interaction: Interaction,
        body: dict[str, Any],
        uploads: dict[int, Attachment],
    ) -> Message:
        """Send a followup; the first one after a defer resolves the loading message instead,
        unless that message was deleted."""
        original = interaction.original
        if original is not None and original.loading and not original.deleted:
            await self.edit_message(original, body, uploads)
            return original
        flags = body.get("flags", 0) & Flag.EPHEMERAL
        message = self.build_message(
            interaction.channel,
            self.bot_user,
            body,
            uploads,
            interaction=interaction,
            flags=flags,
        )
        interaction.followups.append(message)
        await self.publish(message)
        return message

    def interaction_message(self, interaction: Interaction, message_id: str) -> Message:
        """``@original`` or a followup of ``interaction`` by id."""
        candidates = [interaction.original, *interaction.followups]
        for message in candidates:
            if message is None or message.deleted:
                continue
            if message_id == "@original" and message is interaction.original:
                return message
            if message_id.isdigit() and message.id == int(message_id):
                return message
        raise not_found(10008, "Message")

    # -- permissions ---------------------------------------------------------------------------

    def require(self, channel: Channel, permission: Perm) -> None:
        """Raise 403 Missing Permissions unless the bot has ``permission`` in ``channel``,
        with the channel's permission overwrites applied."""
        granted = channel.permissions_for(self.bot_member(channel.guild))
        if granted & permission != permission:
            raise missing_permissions()

    # -- gateway -------------------------------------------------------------------------------

    async def serve_gateway(self, request: web.Request) -> web.WebSocketResponse:
        """Websocket handler: HELLO; IDENTIFY → READY + GUILD_CREATE; RESUME → replay."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(frame(10, {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}))
        session: GatewaySession | None = None
        try:
            async for message in ws:
                if message.type is WSMsgType.TEXT:
                    session = await self._gateway_op(ws, session, json.loads(message.data))
        finally:
            ended = session is not None and session.ws is ws and session.ended_by_bot()
            if ended and session in self._sessions:
                self._sessions.remove(session)
            self._notify()
        return ws

    async def disconnect_bot(self, code: int = 4000) -> None:
        """Close every gateway connection with ``code``; after 4000 discord.py resumes."""
        for session in list(self._sessions):
            session.dropped = True
            await session.ws.close(code=code)

    async def _gateway_op(
        self, ws: web.WebSocketResponse, session: GatewaySession | None, payload: dict[str, Any]
    ) -> GatewaySession | None:
        """Handle one client payload; returns the session the connection now belongs to."""
        op, data = payload.get("op"), payload.get("d") or {}
        if op == 1:
            await ws.send_str(frame(11, None))
        elif op == 2 and session is None:
            return await self._identify(ws, data)
        elif op == 6 and session is None:
            return await self._resume(ws, data)
        return session

    async def _identify(
        self, ws: web.WebSocketResponse, data: dict[str, Any]
    ) -> GatewaySession | None:
        if data.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return None
        intents = int(data.get("intents", 0))
        if intents & Intent.PRIVILEGED & ~self.privileged_intents:
            await ws.close(code=4014, message=b"Disallowed intent(s).")
            return None
        shard = _shard(data.get("shard", [0, 1]))
        if shard is None:
            await ws.close(code=4010, message=b"Invalid shard.")
            return None
        self.identifies.append(data)
        self._sessions = [s for s in self._sessions if s.connected or s.shard != shard]
        session = GatewaySession(ws, secrets.token_hex(16), intents, shard)
        self._sessions.append(session)
        guilds = [guild for guild in self.guilds.values() if session.owns(guild.id)]
        ready = {
            "v": 10,
            "user": self.bot_user.to_dict(),
            "guilds": [{"id": str(guild.id), "unavailable": True} for guild in guilds],
            "session_id": session.session_id,
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
        }
        if "shard" in data:
            ready["shard"] = data["shard"]
        await session.dispatch("READY", ready)
        for guild in guilds:
            await session.dispatch("GUILD_CREATE", guild.to_dict())
        self._notify()
        return session

    async def _resume(
        self, ws: web.WebSocketResponse, data: dict[str, Any]
    ) -> GatewaySession | None:
        """Reattach a dropped session, or answer INVALID_SESSION (not resumable)."""
        session = next((s for s in self._sessions if s.session_id == data.get("session_id")), None)
        if session is None or session.connected or data.get("token") != self.token:
            await ws.send_str(frame(9, False))
            return None
        self.resumes += 1
        await session.resume(ws, int(data.get("seq") or 0))
        self._notify()
        return session

    async def _dispatch(
        self, event: str, guild_id: int, build: Callable[[GatewaySession], dict[str, Any]]
    ) -> None:
        """Send a guild event to the sessions of the shard that owns the guild."""
        for session in list(self._sessions):
            if session.owns(guild_id) and session.wants(event):
                await session.dispatch(event, build(session))

    async def _dispatch_message(self, event: str, message: Message) -> None:
        await self._dispatch(
            event,
            message.guild.id,
            lambda session: message.to_dict(
                self.bot_user.id, content_visible=session.sees_content()
            ),
        )


def _shard(value: Any) -> tuple[int, int] | None:
    """IDENTIFY's ``shard: [shard_id, shard_count]``, or None when it is not a valid pair."""
    if not isinstance(value, list) or len(value) != 2:
        return None
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in value):
        return None
    shard_id, shard_count = value
    return (shard_id, shard_count) if 0 <= shard_id < shard_count else None


def _pick_attachments(
    body: dict[str, Any], uploads: dict[int, Attachment], existing: list[Attachment]
) -> list[Attachment]:
    """Kept attachments (listed by id) plus new uploads (listed by their ``files[n]`` index)."""
    if "attachments" not in body:
        return [*existing, *uploads.values()]
    kept = {attachment.id: attachment for attachment in existing}
    picked = []
    for entry in body["attachments"] or []:
        key = int(entry["id"])
        if key in kept:
            picked.append(kept[key])
        elif key in uploads:
            picked.append(uploads[key])
    return picked


def _require_content(*parts: object) -> None:
    """Discord refuses a message whose content, embeds, files and components are all empty."""
    if not any(parts):
        raise bad_request(50006, "Cannot send an empty message")
