"""Discord-style API errors and the request validation that produces them."""

from __future__ import annotations

import re
from typing import Any

CONTENT_LIMIT = 2000
EMBED_TOTAL_LIMIT = 6000
EMBED_FIELD_LIMITS = {"title": 256, "description": 4096}
COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")


class DiscordError(Exception):
    """An error response, rendered as Discord's JSON error body."""

    def __init__(
        self, status: int, code: int, message: str, errors: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON body Discord sends with this error."""
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


def unauthorized() -> DiscordError:
    return DiscordError(401, 0, "401: Unauthorized")


def not_found(code: int, what: str) -> DiscordError:
    """An ``Unknown <what>`` error (e.g. code 10008 Unknown Message)."""
    return DiscordError(404, code, f"Unknown {what}")


def missing_permissions() -> DiscordError:
    return DiscordError(403, 50013, "Missing Permissions")


def bad_request(code: int, message: str) -> DiscordError:
    return DiscordError(400, code, message)


def invalid_form(path: tuple[str, ...], code: str, message: str) -> DiscordError:
    """A 50035 Invalid Form Body error pointing at the field ``path``."""
    errors: dict[str, Any] = {"_errors": [{"code": code, "message": message}]}
    for key in reversed(path):
        errors = {key: errors}
    return DiscordError(400, 50035, "Invalid Form Body", errors)


def validate_message_body(body: dict[str, Any], path: tuple[str, ...] = ()) -> None:
    """Enforce the content and embed length limits of a message create/edit body."""
    content = body.get("content")
    if content is not None and len(str(content)) > CONTENT_LIMIT:
        raise invalid_form(
            (*path, "content"),
            "BASE_TYPE_MAX_LENGTH",
            f"Must be {CONTENT_LIMIT} or fewer in length.",
        )
    embeds = body.get("embeds") or []
    if len(embeds) > 10:
        raise invalid_form(
            (*path, "embeds"), "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length."
        )
    total = 0
    for index, embed in enumerate(embeds):
        for field, limit in EMBED_FIELD_LIMITS.items():
            text = embed.get(field) or ""
            total += len(text)
            if len(text) > limit:
                raise invalid_form(
                    (*path, "embeds", str(index), field),
                    "BASE_TYPE_MAX_LENGTH",
                    f"Must be {limit} or fewer in length.",
                )
        for item in embed.get("fields", []):
            total += len(item.get("name", "")) + len(item.get("value", ""))
    if total > EMBED_TOTAL_LIMIT:
        raise invalid_form(
            (*path, "embeds"), "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000"
        )


def validate_commands(commands: list[dict[str, Any]]) -> None:
    """Enforce Discord's naming and description rules on a bulk command overwrite."""
    for index, command in enumerate(commands):
        _validate_command_node(command, (str(index),), is_slash=command.get("type", 1) == 1)


def _validate_command_node(node: dict[str, Any], path: tuple[str, ...], *, is_slash: bool) -> None:
    name = node.get("name", "")
    valid_slash_name = COMMAND_NAME.match(name) and name == name.lower()
    if not (valid_slash_name if is_slash else 1 <= len(name) <= 32):
        raise invalid_form((*path, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Invalid name")
    description = node.get("description", "")
    if is_slash and not 1 <= len(description) <= 100:
        raise invalid_form(
            (*path, "description"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
        )
    options = node.get("options") or []
    if len(options) > 25:
        raise invalid_form(
            (*path, "options"), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
        )
    seen_optional = False
    for index, option in enumerate(options):
        option_path = (*path, "options", str(index))
        if option.get("required"):
            if seen_optional:
                raise invalid_form(
                    option_path,
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        elif option.get("type") not in (1, 2):
            seen_optional = True
        _validate_command_node(option, option_path, is_slash=True)
