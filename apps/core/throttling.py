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

from rest_framework.throttling import UserRateThrottle

logger = logging.getLogger(__name__)


class FixedWindowUserRateThrottle(UserRateThrottle):
    """At most ``num_requests`` per ``duration`` seconds per user (per address if anonymous)."""

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_ends_at = (window + 1) * self.duration
        window_key = f"{key}:{window}"
        try:
            count = self._count(window_key)
        except Exception:  # no cache (Redis down): let the request through
            # The limit guards capacity; refusing every sign-up while Redis
            # is away would turn its outage into ours.
            logger.warning("rate limit not counted: the cache is unavailable", exc_info=True)
            return True
        return count <= self.num_requests

    def _count(self, window_key: str) -> int:
        # add() is a no-op when the key exists; incr() is atomic in Redis and
        # in the local-memory cache alike.
        self.cache.add(window_key, 0, timeout=self.duration + 1)
        try:
            return self.cache.incr(window_key)
        except ValueError:  # expired between add() and incr()
            self.cache.set(window_key, 1, timeout=self.duration + 1)
            return 1

    def wait(self):
        return max(self.window_ends_at - self.now, 0)


class MemberSignUpThrottle(FixedWindowUserRateThrottle):
    """Sign-ups per integration token: ``API_SIGNUP_THROTTLE_RATE``, e.g. ``600/min``."""

    scope = "member-signup"
