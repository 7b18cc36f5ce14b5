"""Progressive bonus brackets: plain arithmetic over plain values, no ORM.

A bracket pays its rate on the slice of sales between its bounds, as income
tax brackets do: with brackets 100–120 % at 1 % and 120 %– at 2 % and a
target of ¥100,000, sales of ¥130,000 earn 1 % of 20,000 plus 2 % of 10,000.
Bounds are percentages of the target (basis ``achievement``) or yuan (basis
``net_sales``). The bonus is the sum of the slices rounded once, half up, to
the cent, then held to the cap.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from apps.core.money import ZERO, quantize_money

ACHIEVEMENT, NET_SALES = "achievement", "net_sales"
MAX_BRACKETS = 10
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Bracket:
    lower: Decimal
    upper: Decimal | None  # None: no upper bound
    rate: Decimal  # percent of the slice


@dataclass(frozen=True)
class BonusResult:
    bonus: Decimal
    brackets_reached: int  # how many brackets pay something
    achievement: Decimal | None  # net sales ÷ target, percent, two places


def _decimal(value, *, field: str, index: int) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        number = None
    if number is None or not number.is_finite():
        raise ValidationError(
            {
                "brackets": _("Bracket %(n)s: %(field)s is not a number.")
                % {"n": index, "field": field}
            }
        )
    return number


def brackets_parse(raw) -> list[Bracket]:
    """Validate ``[{"from", "to", "rate"}, …]`` and return the brackets.

    Brackets must be ordered and must not overlap (each starts at or above
    the previous one's end), only the last may be open-ended, bounds are not
    negative, rates are 0–100 %. Errors name the bracket (from 1).
    """
    if not isinstance(raw, list) or not raw:
        raise ValidationError({"brackets": _("Give at least one bracket.")})
    if len(raw) > MAX_BRACKETS:
        raise ValidationError({"brackets": _("At most %(max)s brackets.") % {"max": MAX_BRACKETS}})
    brackets: list[Bracket] = []
    for index, item in enumerate(raw, start=1):
        if not isinstance(item, dict) or set(item) - {"from", "to", "rate"}:
            raise ValidationError(
                {"brackets": _("Bracket %(n)s: give from, to and rate only.") % {"n": index}}
            )
        if item.get("from") is None or item.get("rate") is None:
            raise ValidationError(
                {"brackets": _("Bracket %(n)s: from and rate are required.") % {"n": index}}
            )
        lower = _decimal(item["from"], field="from", index=index)
        upper = item.get("to")
        upper = None if upper in (None, "") else _decimal(upper, field="to", index=index)
        rate = _decimal(item["rate"], field="rate", index=index)
        problem = None
        if lower < 0:
            problem = _("Bracket %(n)s: from must not be negative.")
        elif upper is not None and upper <= lower:
            problem = _("Bracket %(n)s: to must be above from.")
        elif not ZERO <= rate <= HUNDRED:
            problem = _("Bracket %(n)s: the rate must be between 0 and 100 %%.")
        elif upper is None and index != len(raw):
            problem = _("Bracket %(n)s: only the last bracket may be open-ended.")
        elif brackets and lower < brackets[-1].upper:
            problem = _("Bracket %(n)s overlaps the one before or is out of order.")
        if problem:
            raise ValidationError({"brackets": problem % {"n": index}})
        brackets.append(Bracket(lower=lower, upper=upper, rate=rate))
    return brackets


def brackets_to_json(brackets: list[Bracket]) -> list[dict]:
    return [
        {"from": str(b.lower), "to": None if b.upper is None else str(b.upper), "rate": str(b.rate)}
        for b in brackets
    ]


def slice_amounts(*, net_sales: Decimal, bounds: list[tuple[Decimal, Decimal | None, Decimal]]):
    """Yield each bracket's slice of ``net_sales`` between yuan bounds, unrounded, with its rate."""
    for lower, upper, rate in bounds:
        top = net_sales if upper is None else min(net_sales, upper)
        yield max(ZERO, top - lower), rate


def bonus_compute(
    *,
    net_sales: Decimal,
    target: Decimal,
    basis: str,
    brackets: list[Bracket],
    cap: Decimal | None,
) -> BonusResult:
    """Return the progressive bonus of ``net_sales`` under ``brackets``.

    Sales below zero (refunds above sales) earn nothing. Achievement bounds
    are turned into yuan against ``target``.
    """
    if basis == ACHIEVEMENT:
        scale = target / HUNDRED
        bounds = [
            (b.lower * scale, None if b.upper is None else b.upper * scale, b.rate)
            for b in brackets
        ]
    else:
        bounds = [(b.lower, b.upper, b.rate) for b in brackets]
    total = ZERO
    reached = 0
    for amount, rate in slice_amounts(net_sales=net_sales, bounds=bounds):
        if amount > 0:
            reached += 1
            total += amount * rate / HUNDRED
    bonus = quantize_money(total)
    if cap is not None:
        bonus = min(bonus, quantize_money(cap))
    achievement = None
    if target > 0:
        achievement = (net_sales * HUNDRED / target).quantize(Decimal("0.01"))
    return BonusResult(bonus=bonus, brackets_reached=reached, achievement=achievement)


def month_add(month, months: int):
    """Return the first day of the month ``months`` after ``month`` (a first day)."""
    index = month.year * 12 + month.month - 1 + months
    return month.replace(year=index // 12, month=index % 12 + 1, day=1)
