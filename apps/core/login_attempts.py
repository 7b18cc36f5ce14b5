"""Password-login lockout (django-axes): per username and address, and per address.

django-axes counts failures for each set in ``AXES_LOCKOUT_PARAMETERS`` and
locks when the largest count reaches the one ``AXES_FAILURE_LIMIT``. Here each
set has its limit: a username from one address locks after
``AXES_FAILURE_LIMIT`` failures (a person mistyping), an address whatever the
usernames after ``AXES_ADDRESS_FAILURE_LIMIT`` (one password tried across many
usernames). A store's guides share their shop's address, hence the higher
address limit.
"""

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.db.models import Sum

ADDRESS = "ip_address"


def _limit(parameters) -> int:
    if parameters == ADDRESS:
        return settings.AXES_ADDRESS_FAILURE_LIMIT
    return settings.AXES_FAILURE_LIMIT


class LoginAttemptHandler(AxesDatabaseHandler):
    """django-axes' database handler with a failure limit per lockout parameter set."""

    def get_failures(self, request, credentials=None) -> int:
        """Return the failures as axes compares them with ``AXES_FAILURE_LIMIT``.

        That is ``AXES_FAILURE_LIMIT`` minus the fewest failures any set still
        has before its own limit, so the login locks when the first set
        reaches its limit.
        """
        counts = [
            attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        ]
        left = min(
            _limit(parameters) - count
            for parameters, count in zip(settings.AXES_LOCKOUT_PARAMETERS, counts, strict=True)
        )
        return settings.AXES_FAILURE_LIMIT - left

    def reset_user_attempts(self, request, credentials=None) -> int:
        """On a successful login, forget that username's failures from that address only.

        Axes would delete every set's attempts, the address's included: one
        account of their own would let someone clear the address count
        between rounds of guessing others' passwords.
        """
        attempts = self.filter_user_attempts(request, credentials)
        pair = next(
            attempts
            for parameters, attempts in zip(settings.AXES_LOCKOUT_PARAMETERS, attempts, strict=True)
            if parameters != ADDRESS
        )
        deleted, _by_model = pair.delete()
        return deleted
