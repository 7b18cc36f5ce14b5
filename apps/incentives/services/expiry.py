"""Points expiry: explicit ``expired`` movements for points a brand's policy lets lapse.

With ``IncentivePolicy.points_expire_months`` = N, the points earned for a
month M that are still unspent expire on the first day of month M + N + 1
(N = 3: March's points expire on 1 July). Spending is first in, first out:
redemptions, refunds' take-backs and earlier expiries use the oldest points
first, so what is left of the months up to M is what the guide earned for
them minus everything taken so far, never below zero and never more than
the balance. Each (account, month) expires once: the movement's unique
reference and a partial unique constraint say so, and the run locks the
brand's policy and then the accounts (in pk order, as every writer of
balances does) before reading, so a concurrent or repeated run writes
nothing new. Nothing is edited: a movement is appended and the balance
moves by it.
"""

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.db import rows_insert
from apps.incentives import sql as incentive_sql
from apps.incentives.brackets import month_add
from apps.incentives.models import IncentivePolicy, PointsAccount, PointsMovement

logger = logging.getLogger(__name__)

EARNING_KINDS = [
    PointsMovement.Kind.SALES,
    PointsMovement.Kind.MEMBERS,
    PointsMovement.Kind.FOLLOW_UPS,
]


@dataclass(frozen=True)
class ExpiryResult:
    brand_id: int
    movements: int
    points: int


def points_expiry_last_month(*, run_date: dt.date, expire_months: int) -> dt.date:
    """The last earning month whose points have expired on ``run_date``."""
    return month_add(run_date.replace(day=1), -expire_months - 1)


def expiry_plan(
    *, earned: dict[dt.date, int], spent: int, balance: int, last_month: dt.date
) -> dict[dt.date, int]:
    """Return ``{month: points}`` to expire for one account (pure; first in, first out).

    ``earned`` maps earning months to the points earned for them, ``spent``
    is every point taken so far (redemptions, take-backs, expiries) and
    ``last_month`` the last month that has expired.
    """
    plan = {}
    earned_so_far = 0
    for month in sorted(earned):
        if month > last_month:
            break
        earned_so_far += earned[month]
        left = min(earned_so_far - spent, balance)
        if left > 0:
            plan[month] = left
            spent += left
            balance -= left
    return plan


def points_expire(*, brand_id: int, run_date: dt.date | None = None) -> ExpiryResult:
    """Expire the brand's points due on ``run_date``; see the module."""
    run_date = run_date or timezone.localdate()
    with transaction.atomic():
        policy = IncentivePolicy.objects.select_for_update().filter(brand_id=brand_id).first()
        if policy is None or not policy.points_expire_months:
            return ExpiryResult(brand_id, 0, 0)
        last_month = points_expiry_last_month(
            run_date=run_date, expire_months=policy.points_expire_months
        )
        # Accounts with earnings of a month due, whatever is left of them.
        due = (
            PointsMovement.objects.filter(
                account__brand_id=brand_id, kind__in=EARNING_KINDS, points__gt=0,
                month__lte=last_month,
            )
            .values_list("account_id", flat=True)
            .distinct()
            .order_by()
        )  # fmt: skip
        balances = dict(
            PointsAccount.objects.select_for_update()
            .filter(pk__in=due, balance__gt=0)
            .order_by("pk")
            .values_list("pk", "balance")
        )
        if not balances:
            return ExpiryResult(brand_id, 0, 0)
        earned: dict[int, dict[dt.date, int]] = {}
        for account_id, month, points in (
            PointsMovement.objects.filter(
                account_id__in=balances,
                kind__in=EARNING_KINDS,
                points__gt=0,
                month__isnull=False,
            )
            .values_list("account_id", "month")
            .annotate(points=Sum("points"))
            .order_by()
        ):
            earned.setdefault(account_id, {})[month] = points
        spent = dict(
            PointsMovement.objects.filter(account_id__in=balances)
            .filter(points__lt=0)
            .values_list("account_id")
            .annotate(points=Sum("points"))
            .order_by()
        )
        now = timezone.now()
        created_at = connection.ops.adapt_datetimefield_value(now)
        movements = []
        total = 0
        for account_id, balance in balances.items():
            plan = expiry_plan(
                earned=earned.get(account_id, {}), spent=-spent.get(account_id, 0),
                balance=balance, last_month=last_month,
            )  # fmt: skip
            for month, points in plan.items():
                reason = _("%(month)s points expired (after %(months)s months)") % {
                    "month": f"{month:%Y-%m}",
                    "months": policy.points_expire_months,
                }
                movements.append(
                    (account_id, PointsMovement.Kind.EXPIRED.value, -points,
                     connection.ops.adapt_datefield_value(month), "", reason,
                     f"expiry:{account_id}:{month:%Y-%m}", None, created_at)
                )  # fmt: skip
                total += points
        if movements:
            rows_insert(
                PointsMovement,
                ("account_id", "kind", "points", "month", "reward", "reason", "reference",
                 "actor_id", "created_at"),
                movements,
            )  # fmt: skip
            with connection.cursor() as cursor:
                cursor.execute(
                    incentive_sql.balances_add_kind_run(connection.vendor),
                    {"now": created_at, "kind": PointsMovement.Kind.EXPIRED.value},
                )
    logger.info("points expiry brand %s: %s movements, %s points", brand_id, len(movements), total)
    return ExpiryResult(brand_id, len(movements), total)


def points_expire_run(*, run_date: dt.date | None = None) -> list[ExpiryResult]:
    """Expire the points due of every brand whose policy lets points expire (the daily job)."""
    brands = IncentivePolicy.objects.filter(points_expire_months__isnull=False).order_by("brand_id")
    return [
        points_expire(brand_id=brand_id, run_date=run_date)
        for brand_id in brands.values_list("brand_id", flat=True)
    ]
