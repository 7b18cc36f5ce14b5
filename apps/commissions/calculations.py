"""Commission arithmetic over plain values: no ORM, exhaustively tested.

Money is CNY with two decimals, rounded half up once per ledger entry. The SQL
of the bulk path (``sql.py``) computes the same formulas in integer cents;
``cents_*`` here are the reference it is tested against.
"""

import calendar
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

MONEY_PLACES = Decimal("0.01")
PERCENT = Decimal(100)
# Rates are percentages with two decimals: 3.50 % is 350 "basis points" here.
RATE_SCALE = 100


def quantize_money(value: Decimal) -> Decimal:
    """Round ``value`` to 0.01 CNY, halves away from zero (ROUND_HALF_UP)."""
    return Decimal(value).quantize(MONEY_PLACES, rounding=ROUND_HALF_UP)


def to_cents(amount: Decimal) -> int:
    return int(quantize_money(amount) * 100)


def from_cents(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(MONEY_PLACES)


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


def clawback_amount(
    original: Decimal, order_amount: Decimal, refunded_before: Decimal, refund: Decimal
) -> Decimal:
    return from_cents(
        clawback_cents(to_cents(original), to_cents(order_amount), to_cents(refunded_before),
                       to_cents(refund))
    )  # fmt: skip


def month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    """Return the first and last day of ``day``'s month."""
    last = calendar.monthrange(day.year, day.month)[1]
    return day.replace(day=1), day.replace(day=last)


def previous_month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    return month_bounds(day.replace(day=1) - dt.timedelta(days=1))
