"""API rate limits that cost one cache round trip, whatever the rate.

DRF's own throttles keep a list of every request time in the window and
rewrite it on each request: at the thousands of requests a minute an
integration may send, that list is the request's largest cost. A fixed
window counter is one atomic ``incr``; its price is that a client may send
up to twice the rate across the boundary of two windows.

The counters live in Django's default cache: Redis when one is configured
(shared by every web worker), otherwise each process's memory, where each
worker counts on its own. With the cache unavailable nothing is counted and
every request passes.
"""

import logging

from django.core.cache import cache
from rest_framework.throttling import UserRateThrottle

logger = logging.getLogger(__name__)

_PERIODS = {"s": 1, "sec": 1, "min": 60, "m": 60, "hour": 3600, "h": 3600, "day": 86400, "d": 86400}


def rate_parse(rate: str | None) -> tuple[int, int] | None:
    """Return ``"5/hour"`` as (5, 3600); None for no limit (None, "" or "off")."""
    if rate is None or rate.strip().lower() in ("", "off"):
        return None
    count, period = rate.strip().split("/")
    return int(count), _PERIODS[period.strip().lower()]


def fixed_window_hit(key: str, *, limit: int, seconds: int, now: float) -> tuple[bool, float]:
    """Count one hit on ``key``; return whether it is within ``limit`` and when the window ends.

    One atomic ``incr`` per hit: ``add()`` is a no-op when the key exists, and
    ``incr()`` is atomic in Redis and in the local-memory cache alike. With
    the cache unavailable (Redis down) the hit is not counted and allowed:
    the limits guard capacity, and refusing every request while Redis is
    away would turn its outage into ours (limits kept in the database, such
    as codes per phone, still hold).
    """
    window = int(now // seconds)
    window_key = f"{key}:{window}"
    try:
        count = _count(window_key, seconds=seconds)
    except Exception:  # any cache failure: let the request through
        logger.warning("rate limit not counted: the cache is unavailable", exc_info=True)
        return True, (window + 1) * seconds
    return count <= limit, (window + 1) * seconds


def _count(window_key: str, *, seconds: int) -> int:
    cache.add(window_key, 0, timeout=seconds + 1)
    try:
        return cache.incr(window_key)
    except ValueError:  # expired between add() and incr()
        cache.set(window_key, 1, timeout=seconds + 1)
        return 1


class FixedWindowUserRateThrottle(UserRateThrottle):
    """At most ``num_requests`` per ``duration`` seconds per user (per address if anonymous)."""

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        self.now = self.timer()
        allowed, self.window_ends_at = fixed_window_hit(
            key, limit=self.num_requests, seconds=self.duration, now=self.now
        )
        return allowed

    def wait(self):
        return max(self.window_ends_at - self.now, 0)


class MemberSignUpThrottle(FixedWindowUserRateThrottle):
    """Sign-ups per integration token: ``API_SIGNUP_THROTTLE_RATE``, e.g. ``600/min``."""

    scope = "member-signup"
