"""What incentives add to the HQ commission report: a points column and the leaderboard.

Registered in ``IncentivesConfig.ready`` (the commissions app imports no
incentives code); scoped like the report, with its filters.
"""

import dataclasses
import datetime as dt

from apps.core.scoping import Scope
from apps.incentives.selectors import incentive_leaderboard, points_earned_by_group
from apps.stores.selectors import region_descendant_ids

# Report grouping -> the movement's path to the group.
_POINTS_GROUP = {
    "region": "account__guide__store__region_id",
    "store": "account__guide__store_id",
    "guide": "account__guide_id",
    "brand": "account__brand_id",
    "day": "month",
    "month": "month",
}
ALL = "all"


def report_points(scope: Scope, filters, groups) -> dict:
    """Points earned per report group for the months the report's dates touch.

    ``groups`` None: the total, under one key. A month counts when any of its
    days is in the date range; the report's status filter does not apply.
    """
    narrowing = {}
    if filters.brand_id:
        narrowing["account__brand_id"] = filters.brand_id
    if filters.region_id:
        regions = region_descendant_ids(region_ids=[filters.region_id])
        narrowing["account__guide__store__region_id__in"] = regions
    if filters.store_id:
        narrowing["account__guide__store_id"] = filters.store_id
    if filters.guide_id:
        narrowing["account__guide_id"] = filters.guide_id
    first = filters.date_from.replace(day=1) if filters.date_from else None
    months = (first, filters.date_to)
    if groups is None:
        totals = points_earned_by_group(
            scope=scope, group_field="account__brand_id", months=months, **narrowing
        )
        return {ALL: sum(totals.values())}
    found = points_earned_by_group(
        scope=scope, group_field=_POINTS_GROUP[filters.group_by], months=months, **narrowing
    )
    if filters.group_by in ("day", "month"):
        found = {_as_date(month): points for month, points in found.items()}
    return {group: found.get(group, 0) for group in groups if group in found}


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value


def report_leaderboard(scope: Scope, filters) -> dict:
    """The leaderboard of ``filters.leaderboard_month`` by ``filters.leaderboard_by``."""
    rows = incentive_leaderboard(
        scope=scope,
        month=filters.leaderboard_month.replace(day=1),
        group_by=filters.leaderboard_by,
        brand_id=filters.brand_id,
    )
    return {
        "month": filters.leaderboard_month.replace(day=1),
        "group_by": filters.leaderboard_by,
        "rows": [dataclasses.asdict(row) for row in rows],
    }
