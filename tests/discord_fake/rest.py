"""The REST half of the fake: aiohttp routes translating HTTP to FakeDiscord calls."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import BodyPartReader, hdrs, web

from .errors import DiscordError, bad_request, not_found, unauthorized
from .ratelimits import Verdict
from .state import Attachment, Channel, Interaction, Message, Perm

if TYPE_CHECKING:
    from .fake import FakeDiscord

API = "/api/v10"
NO_AUTH_PREFIXES = (f"{API}/interactions/", f"{API}/webhooks/")

_log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def reply(data: Any, status: int = 200) -> web.Response:
    """JSON with a bare ``application/json`` content type (discord.py rejects a charset)."""
    return web.Response(
        body=json.dumps(data).encode(), status=status, content_type="application/json"
    )


def no_content() -> web.Response:
    return web.Response(status=204)


async def read_body(
    fake: FakeDiscord, request: web.Request
) -> tuple[dict[str, Any], dict[int, Attachment]]:
    """The JSON body and the uploads (keyed by their ``files[n]`` index) of a request."""
    if not request.content_type.startswith("multipart/"):
        return (await request.json() if request.can_read_body else {}), {}
    body: dict[str, Any] = {}
    uploads: dict[int, Attachment] = {}
    async for part in await request.multipart():
        if not isinstance(part, BodyPartReader):
            continue
        if part.name == "payload_json":
            body = json.loads(await part.text())
        elif part.name and part.name.startswith("files["):
            index = int(part.name[len("files[") : -1])
            filename = part.filename or f"file{index}"
            data = bytes(await part.read())
            uploads[index] = fake.new_attachment(
                filename, data, part.headers.get(hdrs.CONTENT_TYPE)
            )
    return body, uploads


class RestApi:
    """Route handlers; each validates like Discord and delegates to the FakeDiscord."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake

    def routes(self) -> list[tuple[str, str, Handler]]:
        message = "/channels/{channel_id}/messages/{message_id}"
        webhook_message = "/webhooks/{application_id}/{token}/messages/{message_id}"
        return [
            ("GET", "/users/@me", self.get_me),
            ("GET", "/users/{user_id}", self.get_user),
            ("GET", "/oauth2/applications/@me", self.get_application),
            ("GET", "/gateway", self.get_gateway),
            ("GET", "/gateway/bot", self.get_bot_gateway),
            ("GET", "/applications/{application_id}/commands", self.get_commands),
            ("PUT", "/applications/{application_id}/commands", self.put_commands),
            ("GET", "/applications/{application_id}/guilds/{guild_id}/commands", self.get_commands),
            ("PUT", "/applications/{application_id}/guilds/{guild_id}/commands", self.put_commands),
            ("GET", "/guilds/{guild_id}/members/{user_id}", self.get_member),
            ("POST", "/interactions/{interaction_id}/{token}/callback", self.callback),
            ("POST", "/webhooks/{application_id}/{token}", self.create_followup),
            ("GET", webhook_message, self.get_webhook_message),
            ("PATCH", webhook_message, self.edit_webhook_message),
            ("DELETE", webhook_message, self.delete_webhook_message),
            ("GET", "/channels/{channel_id}", self.get_channel),
            ("POST", "/channels/{channel_id}/typing", self.typing),
            ("GET", "/channels/{channel_id}/messages", self.history),
            ("POST", "/channels/{channel_id}/messages", self.create_message),
            ("GET", message, self.get_message),
            ("PATCH", message, self.edit_message),
            ("DELETE", message, self.delete_message),
            ("GET", message + "/reactions/{emoji}", self.get_reactions),
            ("PUT", message + "/reactions/{emoji}/@me", self.add_reaction),
            ("DELETE", message + "/reactions/{emoji}/{user}", self.remove_reaction),
        ]

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Check the bot token and turn errors into Discord-style JSON; record surprises."""
        try:
            authorized = request.headers.get("Authorization") == f"Bot {self.fake.token}"
            if _needs_auth(request.path) and not authorized:
                raise unauthorized()
            verdict = self._rate_limit(request)
            if verdict is not None and verdict.retry_after is not None:
                response = reply(verdict.body(), 429)
                response.headers.update(verdict.headers)
                return response
            answer = await handler(request)
            if verdict is not None:
                answer.headers.update(verdict.headers)
            return answer
        except DiscordError as error:
            return reply(error.to_dict(), error.status)
        except web.HTTPException as error:
            self.fake.problems.append(f"unhandled route: {request.method} {request.path}")
            return reply({"message": f"{error.status}: {error.reason}", "code": 0}, error.status)
        except Exception as error:
            _log.exception("fake Discord failed on %s %s", request.method, request.path)
            self.fake.problems.append(f"{request.method} {request.path} raised {error!r}")
            return reply({"message": f"fake Discord error: {error!r}", "code": 0}, 400)

    def _rate_limit(self, request: web.Request) -> Verdict | None:
        """Count the request against its route's limit, if the test set one."""
        resource = request.match_info.route.resource
        if resource is None or not resource.canonical.startswith(API):
            return None
        route = resource.canonical[len(API) :]
        return self.fake.rate_limits.check(request.method, route, dict(request.match_info))

    # -- identity ------------------------------------------------------------------------------

    async def get_me(self, request: web.Request) -> web.Response:
        return reply({**self.fake.bot_user.to_dict(), "verified": True, "mfa_enabled": False})

    async def get_user(self, request: web.Request) -> web.Response:
        user = self.fake.users.get(int(request.match_info["user_id"]))
        if user is None:
            raise not_found(10013, "User")
        return reply(user.to_dict())

    async def get_application(self, request: web.Request) -> web.Response:
        fake = self.fake
        owner = next(iter(fake.guilds.values())).owner_id if fake.guilds else fake.bot_user.id
        return reply(
            {
                "id": str(fake.application_id),
                "name": fake.bot_user.username,
                "description": "",
                "icon": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": fake.users[owner].to_dict(),
                "verify_key": "0" * 64,
                "team": None,
                "flags": 0,
                "bot": fake.bot_user.to_dict(),
            }
        )

    async def get_gateway(self, request: web.Request) -> web.Response:
        return reply({"url": self.fake.gateway_url})

    async def get_bot_gateway(self, request: web.Request) -> web.Response:
        """The gateway URL, the recommended shard count and the identify limits."""
        limit = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
        fake = self.fake
        return reply(
            {"url": fake.gateway_url, "shards": fake.shard_count, "session_start_limit": limit}
        )

    async def get_member(self, request: web.Request) -> web.Response:
        guild = self.fake.guilds.get(int(request.match_info["guild_id"]))
        if guild is None:
            raise not_found(10004, "Guild")
        member = guild.members.get(int(request.match_info["user_id"]))
        if member is None:
            raise not_found(10007, "Member")
        return reply(member.to_dict())

    # -- application commands ------------------------------------------------------------------

    def _command_scope(self, request: web.Request) -> int | None:
        if int(request.match_info["application_id"]) != self.fake.application_id:
            raise not_found(10002, "Application")
        if "guild_id" not in request.match_info:
            return None
        guild_id = int(request.match_info["guild_id"])
        if guild_id not in self.fake.guilds:
            raise not_found(10004, "Guild")
        return guild_id

    async def get_commands(self, request: web.Request) -> web.Response:
        return reply(self.fake.commands.get(self._command_scope(request), []))

    async def put_commands(self, request: web.Request) -> web.Response:
        scope = self._command_scope(request)
        return reply(self.fake.register_commands(scope, await request.json()))

    # -- interactions --------------------------------------------------------------------------

    async def callback(self, request: web.Request) -> web.Response:
        interaction = self.fake.interactions.get(int(request.match_info["interaction_id"]))
        if interaction is None or interaction.token != request.match_info["token"]:
            raise not_found(10062, "interaction")
        body, uploads = await read_body(self.fake, request)
        result = await self.fake.respond(interaction, body, uploads)
        if request.query.get("with_response") not in ("1", "true"):
            return no_content()
        return reply(result)

    def _webhook_interaction(self, request: web.Request) -> Interaction:
        application_id = int(request.match_info["application_id"])
        return self.fake.interaction_by_token(application_id, request.match_info["token"])

    async def create_followup(self, request: web.Request) -> web.Response:
        interaction = self._webhook_interaction(request)
        body, uploads = await read_body(self.fake, request)
        message = await self.fake.followup(interaction, body, uploads)
        return reply(self.fake.view(message))

    def _webhook_message(self, request: web.Request) -> Message:
        interaction = self._webhook_interaction(request)
        return self.fake.interaction_message(interaction, request.match_info["message_id"])

    async def get_webhook_message(self, request: web.Request) -> web.Response:
        return reply(self.fake.view(self._webhook_message(request)))

    async def edit_webhook_message(self, request: web.Request) -> web.Response:
        message = self._webhook_message(request)
        body, uploads = await read_body(self.fake, request)
        await self.fake.edit_message(message, body, uploads)
        return reply(self.fake.view(message))

    async def delete_webhook_message(self, request: web.Request) -> web.Response:
        await self.fake.delete_message(self._webhook_message(request))
        return no_content()

    # -- channels and messages -----------------------------------------------------------------

    def _channel(self, request: web.Request, permission: Perm = Perm.VIEW_CHANNEL) -> Channel:
        channel = self.fake.find_channel(int(request.match_info["channel_id"]))
        self.fake.require(channel, Perm.VIEW_CHANNEL | permission)
        return channel

    def _message(self, request: web.Request, permission: Perm) -> Message:
        channel = self._channel(request, permission)
        return self.fake.channel_message(channel, int(request.match_info["message_id"]))

    async def get_channel(self, request: web.Request) -> web.Response:
        return reply(self._channel(request).to_dict())

    async def typing(self, request: web.Request) -> web.Response:
        self._channel(request, Perm.SEND_MESSAGES)
        return no_content()

    async def history(self, request: web.Request) -> web.Response:
        channel = self._channel(request, Perm.READ_MESSAGE_HISTORY)
        limit = min(max(int(request.query.get("limit", 50)), 1), 100)
        messages = channel.messages
        if "before" in request.query:
            before = int(request.query["before"])
            messages = [m for m in messages if m.id < before][-limit:]
        elif "after" in request.query:
            after = int(request.query["after"])
            messages = [m for m in messages if m.id > after][:limit]
        elif "around" in request.query:
            around = int(request.query["around"])
            start = max(0, sum(m.id < around for m in messages) - limit // 2)
            messages = messages[start : start + limit]
        else:
            messages = messages[-limit:]
        return reply([self.fake.view(m) for m in reversed(messages)])

    async def create_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request, Perm.SEND_MESSAGES)
        body, uploads = await read_body(self.fake, request)
        message = self.fake.build_message(channel, self.fake.bot_user, body, uploads)
        await self.fake.publish(message)
        return reply(self.fake.view(message))

    async def get_message(self, request: web.Request) -> web.Response:
        return reply(self.fake.view(self._message(request, Perm.READ_MESSAGE_HISTORY)))

    async def edit_message(self, request: web.Request) -> web.Response:
        message = self._message(request, Perm.VIEW_CHANNEL)
        if message.author is not self.fake.bot_user:
            raise DiscordError(403, 50005, "Cannot edit a message authored by another user")
        body, uploads = await read_body(self.fake, request)
        await self.fake.edit_message(message, body, uploads)
        return reply(self.fake.view(message))

    async def delete_message(self, request: web.Request) -> web.Response:
        message = self._message(request, Perm.VIEW_CHANNEL)
        if message.author is not self.fake.bot_user:
            self.fake.require(message.channel, Perm.MANAGE_MESSAGES)
        await self.fake.delete_message(message)
        return no_content()

    # -- reactions -----------------------------------------------------------------------------

    async def get_reactions(self, request: web.Request) -> web.Response:
        message = self._message(request, Perm.READ_MESSAGE_HISTORY)
        limit = min(max(int(request.query.get("limit", 25)), 1), 100)
        after = int(request.query.get("after", 0))
        user_ids = sorted(i for i in message.reactors(request.match_info["emoji"]) if i > after)
        return reply([self.fake.users[i].to_dict() for i in user_ids[:limit]])

    async def add_reaction(self, request: web.Request) -> web.Response:
        message = self._message(request, Perm.READ_MESSAGE_HISTORY)
        emoji = request.match_info["emoji"]
        if ":" in emoji:
            raise bad_request(10014, "Unknown Emoji")
        if emoji not in message.reactions:
            self.fake.require(message.channel, Perm.ADD_REACTIONS)
        await self.fake.add_reaction(message, emoji, self.fake.bot_member(message.guild))
        return no_content()

    async def remove_reaction(self, request: web.Request) -> web.Response:
        message = self._message(request, Perm.READ_MESSAGE_HISTORY)
        user = request.match_info["user"]
        user_id = self.fake.bot_user.id if user == "@me" else int(user)
        if user_id != self.fake.bot_user.id:
            self.fake.require(message.channel, Perm.MANAGE_MESSAGES)
        await self.fake.remove_reaction(message, request.match_info["emoji"], user_id)
        return no_content()

    # -- files ---------------------------------------------------------------------------------

    async def get_attachment(self, request: web.Request) -> web.Response:
        attachment = self.fake.attachments.get(int(request.match_info["attachment_id"]))
        if attachment is None:
            raise not_found(0, "Attachment")
        return web.Response(body=attachment.data, content_type="application/octet-stream")


def _needs_auth(path: str) -> bool:
    """Bot-token routes: all of the API except interaction callbacks and webhooks."""
    return path.startswith(API) and not path.startswith(NO_AUTH_PREFIXES)


def build_app(fake: FakeDiscord) -> web.Application:
    """The aiohttp application: REST under /api/v10, the gateway at /gateway."""
    api = RestApi(fake)
    app = web.Application(middlewares=[api.middleware])
    app.router.add_get("/gateway", fake.serve_gateway)
    app.router.add_get("/attachments/{attachment_id}/{filename}", api.get_attachment)
    for method, path, handler in api.routes():
        app.router.add_route(method, API + path, handler)
    return app
