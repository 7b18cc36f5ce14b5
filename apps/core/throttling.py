"""API rate limits that cost one cache round trip, whatever the rate.

DRF's own throttles keep a list of every request time in the window and
rewrite it on each request: at the thousands of requests a minute an
integration may send, that list is the request's largest cost. A fixed
window counter is one atomic ``incr``; its price is that a client may send
up to twice the rate across the boundary of two windows.

The counters live in Django's default cache: Redis when one is configured
(shared by every web worker), otherwise each process's memory, where each
worker counts on its own.
"""

from rest_framework.throttling import UserRateThrottle


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
        # add() is a no-op when the key exists; incr() is atomic in Redis and
        # in the local-memory cache alike.
        self.cache.add(window_key, 0, timeout=self.duration + 1)
        try:
            count = self.cache.incr(window_key)
        except ValueError:  # expired between add() and incr()
            self.cache.set(window_key, 1, timeout=self.duration + 1)
            count = 1
        return count <= self.num_requests

    def wait(self):
        return max(self.window_ends_at - self.now, 0)


class MemberSignUpThrottle(FixedWindowUserRateThrottle):
    """Sign-ups per integration token: ``API_SIGNUP_THROTTLE_RATE``, e.g. ``600/min``."""

    scope = "member-signup"
