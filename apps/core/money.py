"""Money: CNY with two decimals, rounded half up, defined once for every amount shown or stored.

Every ledger entry is rounded once, half up (``ROUND_HALF_UP``, on purpose:
Python's and many libraries' default is half-even); totals are sums of
entries. The bulk SQL computes in integer cents with the same rounding
(``apps.core.sql.half_up``).
"""

from decimal import ROUND_HALF_UP, Decimal

MONEY_MAX_DIGITS = 14
MONEY_DECIMAL_PLACES = 2
MONEY_PLACES = Decimal("0.01")
ZERO = Decimal("0.00")
# An order, a refund or an order line's price is at least a cent.
MIN_AMOUNT = MONEY_PLACES
# A settlement total may differ by less than this from the sum of its parts:
# SQLite stores decimals as floats; on PostgreSQL the columns are exact.
HALF_CENT = Decimal("0.005")


def quantize_money(value: Decimal | int | str) -> Decimal:
    """Round ``value`` to 0.01 CNY, halves away from zero."""
    return Decimal(value).quantize(MONEY_PLACES, rounding=ROUND_HALF_UP)


def money_from_db(value) -> Decimal:
    """Return a database sum as money: None is zero, and SQLite's floats go through their text."""
    if value is None:
        return ZERO
    if isinstance(value, float):
        value = str(value)
    return quantize_money(value)


def to_cents(amount: Decimal) -> int:
    return int(quantize_money(amount) * 100)


def from_cents(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(MONEY_PLACES)
