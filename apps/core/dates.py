"""Local calendar boundaries (``TIME_ZONE``) as aware datetimes, for "this week", "this month"."""

import datetime as dt

from django.utils import timezone


def day_start(day: dt.date) -> dt.datetime:
    """Return local midnight at the start of ``day``."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def week_start(today: dt.date) -> dt.datetime:
    """Return local midnight of the Monday of ``today``'s week, as an aware datetime."""
    return day_start(today - dt.timedelta(days=today.weekday()))


def month_start(today: dt.date) -> dt.datetime:
    """Return local midnight of the first of ``today``'s month."""
    return day_start(today.replace(day=1))
