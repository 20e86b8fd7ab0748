"""Registered application commands: storing them and typing a user's invocation from them."""

from __future__ import annotations

from typing import Any

from .state import Channel, Guild, Member, Perm, Role

Registry = dict[int | None, list[dict[str, Any]]]
"""Registered commands by scope: a guild id, or None for global commands."""

SIMPLE_TYPES: dict[int, tuple[type, ...]] = {3: (str,), 4: (int,), 5: (bool,), 10: (int, float)}
OBJECT_TYPES: dict[int, tuple[type, ...]] = {
    6: (Member,),
    7: (Channel,),
    8: (Role,),
    9: (Member, Role),
}
GROUPING_TYPES = (1, 2)  # subcommand, subcommand group
PLACEHOLDER_DESCRIPTIONS = ("", "…", "...")


def undocumented(registry: Registry) -> list[str]:
    """Qualified names of slash commands and options whose description is empty or a placeholder."""
    found: list[str] = []

    def walk(node: dict[str, Any], prefix: str) -> None:
        name = f"{prefix} {node['name']}".strip()
        described = bool(prefix) or node.get("type", 1) == 1
        if described and node.get("description", "").strip() in PLACEHOLDER_DESCRIPTIONS:
            found.append(name)
        for option in node.get("options") or []:
            walk(option, name)

    for commands in registry.values():
        for command in commands:
            walk(command, "")
    return found


def invocation_data(
    registry: Registry, command: str, options: dict[str, Any], guild: Guild
) -> dict[str, Any]:
    """The ``data`` of an INTERACTION_CREATE for ``command`` (e.g. ``"story start"``).

    Raises LookupError for unregistered commands and ValueError for options the Discord
    client would refuse (unknown, missing, wrong type, not a choice, out of range).
    """
    root_name, *sub_names = command.split()
    root, scope = _find_root(registry, root_name, guild)
    node, path = root, []
    for name in sub_names:
        node = next(
            (o for o in _options(node) if o["name"] == name and o["type"] in GROUPING_TYPES), None
        )
        if node is None:
            raise LookupError(f"{command!r} is not registered")
        path.append(node)
    if any(o["type"] in GROUPING_TYPES for o in _options(node)):
        raise ValueError(f"{command!r} is a group; name one of its subcommands")
    values, resolved = _typed_options(command, node, options)
    for sub in reversed(path):
        values = [{"name": sub["name"], "type": sub["type"], "options": values}]
    data: dict[str, Any] = {"id": root["id"], "name": root_name, "type": 1, "options": values}
    if scope is not None:
        data["guild_id"] = str(scope)
    if resolved:
        data["resolved"] = resolved
    return data


def _options(node: dict[str, Any]) -> list[dict[str, Any]]:
    return node.get("options") or []


def _find_root(registry: Registry, name: str, guild: Guild) -> tuple[dict[str, Any], int | None]:
    for scope in (guild.id, None):
        for command in registry.get(scope, []):
            if command["name"] == name and command.get("type", 1) == 1:
                return command, scope
    raise LookupError(f"slash command {name!r} is not registered")


def _typed_options(
    command: str, node: dict[str, Any], values: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    specs = {spec["name"]: spec for spec in _options(node)}
    unknown = set(values) - set(specs)
    missing = {name for name, spec in specs.items() if spec.get("required") and name not in values}
    if unknown or missing:
        raise ValueError(f"{command!r}: unknown options {unknown or '{}'}, missing {missing}")
    payload: list[dict[str, Any]] = []
    resolved: dict[str, Any] = {}
    for name, value in values.items():
        kind = specs[name]["type"]
        if kind in SIMPLE_TYPES:
            _check_simple(command, specs[name], value)
        elif kind in OBJECT_TYPES and isinstance(value, OBJECT_TYPES[kind]):
            value = _resolve(value, resolved)
        else:
            raise ValueError(f"{command!r}: option {name!r} of type {kind} got {value!r}")
        payload.append({"name": name, "type": kind, "value": value})
    return payload, resolved


def _check_simple(command: str, spec: dict[str, Any], value: Any) -> None:
    name, kind = spec["name"], spec["type"]
    if not isinstance(value, SIMPLE_TYPES[kind]) or (kind != 5 and isinstance(value, bool)):
        raise ValueError(f"{command!r}: option {name!r} of type {kind} got {value!r}")
    choices = [choice["value"] for choice in spec.get("choices") or []]
    if choices and value not in choices:
        raise ValueError(f"{command!r}: {value!r} is not a choice of {name!r}: {choices}")
    is_text = isinstance(value, str)
    size = len(value) if is_text else value
    low = spec.get("min_length" if is_text else "min_value")
    high = spec.get("max_length" if is_text else "max_value")
    if (low is not None and size < low) or (high is not None and size > high):
        raise ValueError(f"{command!r}: {value!r} is out of range for {name!r}")


def _resolve(value: Member | Channel | Role, resolved: dict[str, Any]) -> str:
    """Add ``value`` to the interaction's ``resolved`` data; returns the option value (its id)."""
    key = str(value.id)
    if isinstance(value, Member):
        member = {**value.to_dict(with_user=False), "permissions": str(value.permissions)}
        resolved.setdefault("users", {})[key] = value.user.to_dict()
        resolved.setdefault("members", {})[key] = member
    elif isinstance(value, Channel):
        resolved.setdefault("channels", {})[key] = {**value.to_dict(), "permissions": str(Perm.ALL)}
    else:
        resolved.setdefault("roles", {})[key] = value.to_dict()
    return key
