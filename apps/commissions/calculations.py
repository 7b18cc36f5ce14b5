"""The reference arithmetic of the ledger, over plain values: no ORM, exhaustively tested.

Also the attribution rule (``binding_credit``): which guide a member's
binding credits with an order, from the facts alone.

Money is CNY with two decimals, rounded half up once per ledger entry
(``apps.core.money``). The bulk SQL (``apps.commissions.sql``) computes the
same formulas in integer cents and chooses plans by the same rule; the
functions here are the reference it is tested against.
"""

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from apps.commissions.models import AttributionReason  # the choices only, no queries
from apps.core.money import quantize_money

PERCENT = Decimal(100)
# Rates are percentages with two decimals: 3.50 % is 350 "basis points" here.
RATE_SCALE = 100


def _div_half_up(numerator: int, denominator: int) -> int:
    """Divide non-negative integers, rounding halves up."""
    return (2 * numerator + denominator) // (2 * denominator)


def commission_cents(base_cents: int, rate_bp: int) -> int:
    """Return the commission on ``base_cents`` at ``rate_bp`` hundredths of a percent."""
    return _div_half_up(base_cents * rate_bp, 100 * RATE_SCALE)


def commission_amount(base: Decimal, rate_percent: Decimal) -> Decimal:
    """Return ``base × rate %`` rounded to the cent, half up."""
    return quantize_money(base * rate_percent / PERCENT)


def clawback_cents(
    original_cents: int, order_cents: int, refunded_before_cents: int, refund_cents: int
) -> int:
    """Return the (positive) share of ``original_cents`` a refund takes back.

    The clawback is the rounded cumulative share after this refund minus the
    rounded cumulative share before it, so the clawbacks of all refunds of an
    order add up to ``original_cents`` exactly once the order is fully refunded,
    whatever the split.
    """
    after = _div_half_up(original_cents * (refunded_before_cents + refund_cents), order_cents)
    before = _div_half_up(original_cents * refunded_before_cents, order_cents)
    return after - before


@dataclass(frozen=True)
class PlanScope:
    """What decides whether a plan applies to a sale, and how it ranks among those that do."""

    plan_id: int
    specificity: int
    valid_from: dt.date
    valid_to: dt.date | None = None
    store_id: int | None = None
    store_kind: str = ""
    category: str = ""


def plan_choose(
    plans: Iterable[PlanScope],
    *,
    store_id: int,
    store_kind: str,
    category: str,
    business_date: dt.date,
) -> int | None:
    """Return the id of the plan in force for a sale of one brand, or None.

    A plan applies when its store, store kind and category are empty or match
    and the business date is within its validity; the most specific wins, then
    the one that started last.
    """
    applicable = [
        plan
        for plan in plans
        if plan.store_id in (None, store_id)
        and plan.store_kind in ("", store_kind)
        and plan.category in ("", category)
        and plan.valid_from <= business_date
        and (plan.valid_to is None or plan.valid_to >= business_date)
    ]
    if not applicable:
        return None
    return max(applicable, key=lambda plan: (plan.specificity, plan.valid_from)).plan_id


def month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    """Return the first and last day of ``day``'s month."""
    last = calendar.monthrange(day.year, day.month)[1]
    return day.replace(day=1), day.replace(day=last)


@dataclass(frozen=True)
class Binding:
    """A membership's facts as attribution sees them (``status`` as ``Membership.Status``)."""

    status: str
    has_guide: bool
    joined_at: dt.datetime
    bound_at: dt.datetime | None


def binding_credit(
    binding: Binding | None,
    *,
    paid_at: dt.datetime,
    binding_days: int | None,
    till_grace: dt.timedelta,
) -> str:
    """Return the reason a member's binding gives for an order paid at ``paid_at``.

    ``bound_guide`` and ``bound_at_till`` credit the bound guide; the other
    reasons credit none (``pending_membership``: not yet known). An order
    paid at most ``till_grace`` before the binding made at sign-up is the
    till case: the shopper joined through the guide's QR code while paying.
    The first binding dates from the sign-up (``bound_at == joined_at``);
    a later move to another guide (a handover, a manual move) does not reach
    back to orders paid before it.
    """
    reason = AttributionReason
    if binding is None:
        return reason.NONE_NO_MEMBERSHIP
    if binding.status == "pending":
        return reason.PENDING_MEMBERSHIP
    if not binding.has_guide:
        return reason.NONE_NO_BOUND_GUIDE
    if binding.bound_at is None:
        # Bound before bind times were kept: for ever, unless a window applies.
        return reason.BOUND_GUIDE if binding_days is None else reason.NONE_BINDING_EXPIRED
    if paid_at >= binding.bound_at:
        if binding_days is not None and paid_at > binding.bound_at + dt.timedelta(
            days=binding_days
        ):
            return reason.NONE_BINDING_EXPIRED
        return reason.BOUND_GUIDE
    at_sign_up = binding.bound_at <= binding.joined_at
    if at_sign_up and paid_at >= binding.bound_at - till_grace:
        return reason.BOUND_AT_TILL
    return reason.NONE_PAID_BEFORE_BINDING
