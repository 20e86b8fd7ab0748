"""Per-route rate limits, answered the way Discord documents them.

Every response on a limited route carries ``X-RateLimit-Limit``, ``-Remaining``, ``-Reset``
(epoch seconds), ``-Reset-After`` (seconds) and ``-Bucket``. A request over the limit gets
429 with ``Retry-After``, ``X-RateLimit-Scope: user`` and the body
``{"message": "You are being rate limited.", "retry_after": seconds, "global": false}``.
Limits are counted per top-level resource (the channel, guild or webhook in the path) in
fixed windows that start with the first request, as Discord's buckets do.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass, field
from typing import Any

MAJOR_PARAMETERS = ("channel_id", "guild_id", "token")


@dataclass(frozen=True)
class RouteLimit:
    method: str
    route: str
    """The route as written in the API docs, e.g. ``/channels/{channel_id}/messages``."""
    limit: int
    per: float
    """Seconds in one window."""

    @property
    def bucket(self) -> str:
        return hashlib.sha1(f"{self.method} {self.route}".encode()).hexdigest()[:16]


@dataclass
class Window:
    started: float
    used: int = 0


@dataclass(frozen=True)
class Verdict:
    """Whether a request may go ahead, and the headers to send with its answer."""

    headers: dict[str, str]
    retry_after: float | None = None

    def body(self) -> dict[str, Any]:
        return {
            "message": "You are being rate limited.",
            "retry_after": self.retry_after,
            "global": False,
        }


@dataclass
class RateLimiter:
    """The configured route limits and their current windows; ``refused`` counts 429s."""

    limits: list[RouteLimit] = field(default_factory=list)
    windows: dict[tuple[str, str], Window] = field(default_factory=dict)
    refused: list[tuple[str, str]] = field(default_factory=list)

    def add(self, method: str, route: str, limit: int, per: float) -> RouteLimit:
        rule = RouteLimit(method.upper(), route, limit, per)
        self.limits.append(rule)
        return rule

    def check(self, method: str, route: str, params: dict[str, str]) -> Verdict | None:
        """Count one request; None when the route has no limit."""
        rule = next((r for r in self.limits if (r.method, r.route) == (method, route)), None)
        if rule is None:
            return None
        major = next((params[name] for name in MAJOR_PARAMETERS if name in params), "")
        now = time.monotonic()
        window = self.windows.get((rule.bucket, major))
        if window is None or now >= window.started + rule.per:
            window = self.windows[(rule.bucket, major)] = Window(now)
        reset_after = window.started + rule.per - now
        headers = {
            "X-RateLimit-Limit": str(rule.limit),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": rule.bucket,
        }
        if window.used >= rule.limit:
            self.refused.append((method, route))
            headers["X-RateLimit-Remaining"] = "0"
            headers["X-RateLimit-Scope"] = "user"
            headers["Retry-After"] = str(math.ceil(reset_after))
            return Verdict(headers, round(reset_after, 3))
        window.used += 1
        headers["X-RateLimit-Remaining"] = str(rule.limit - window.used)
        return Verdict(headers)
