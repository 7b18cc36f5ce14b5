"""Bracket arithmetic: progressive slices, the cap, monotonic in sales, and validation."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.core.money import quantize_money
from apps.incentives.brackets import (
    ACHIEVEMENT,
    NET_SALES,
    Bracket,
    bonus_compute,
    brackets_parse,
)

money = st.decimals(min_value=0, max_value=10_000_000, places=2)
rates = st.decimals(min_value=0, max_value=100, places=2)


@st.composite
def bracket_sets(draw):
    """Ordered, non-overlapping brackets; gaps allowed; the last open-ended or not."""
    count = draw(st.integers(min_value=1, max_value=5))
    bounds = sorted(draw(st.lists(money, min_size=count * 2, max_size=count * 2, unique=True)))
    brackets = []
    for i in range(count):
        lower, upper = bounds[2 * i], bounds[2 * i + 1]
        brackets.append(Bracket(lower=lower, upper=upper, rate=draw(rates)))
    if draw(st.booleans()):
        brackets[-1] = Bracket(lower=brackets[-1].lower, upper=None, rate=brackets[-1].rate)
    return brackets


caps = st.none() | money


@settings(deadline=None)
@given(sales=money, brackets=bracket_sets(), cap=caps)
def test_bonus_is_the_sum_of_its_slices_within_the_cap(sales, brackets, cap):
    result = bonus_compute(
        net_sales=sales, target=Decimal(1), basis=NET_SALES, brackets=brackets, cap=cap
    )
    slices = Decimal(0)
    for b in brackets:
        top = sales if b.upper is None else min(sales, b.upper)
        if top > b.lower:
            slices += (top - b.lower) * b.rate / 100
    expected = quantize_money(slices)
    if cap is not None:
        expected = min(expected, cap)
        assert result.bonus <= cap
    assert result.bonus == expected
    assert result.bonus >= 0


@settings(deadline=None)
@given(a=money, b=money, brackets=bracket_sets(), cap=caps)
def test_bonus_is_monotonic_in_sales(a, b, brackets, cap):
    low, high = sorted((a, b))
    kwargs = {"target": Decimal(1), "basis": NET_SALES, "brackets": brackets, "cap": cap}
    assert (
        bonus_compute(net_sales=low, **kwargs).bonus
        <= bonus_compute(net_sales=high, **kwargs).bonus
    )


def test_the_issues_example_on_achievement():
    # Below 100 % nothing; 100–120 % pays 1 % above target; above 120 % pays 2 % above 120 %.
    brackets = brackets_parse(
        [{"from": "100", "to": "120", "rate": "1"}, {"from": "120", "to": None, "rate": "2"}]
    )
    result = bonus_compute(
        net_sales=Decimal("130000"), target=Decimal("100000"), basis=ACHIEVEMENT,
        brackets=brackets, cap=None,
    )  # fmt: skip
    assert result.bonus == Decimal("400.00")  # 1 % of 20,000 + 2 % of 10,000
    assert result.brackets_reached == 2
    assert result.achievement == Decimal("130.00")
    below = bonus_compute(
        net_sales=Decimal("99999.99"), target=Decimal("100000"), basis=ACHIEVEMENT,
        brackets=brackets, cap=None,
    )  # fmt: skip
    assert below.bonus == 0 and below.brackets_reached == 0
    capped = bonus_compute(
        net_sales=Decimal("130000"), target=Decimal("100000"), basis=ACHIEVEMENT,
        brackets=brackets, cap=Decimal("250"),
    )  # fmt: skip
    assert capped.bonus == Decimal("250.00")


def test_negative_net_sales_earn_nothing():
    brackets = brackets_parse([{"from": "0", "rate": "5"}])
    result = bonus_compute(
        net_sales=Decimal("-50"), target=Decimal(100), basis=NET_SALES, brackets=brackets,
        cap=None,
    )  # fmt: skip
    assert result.bonus == 0


@pytest.mark.parametrize(
    ("brackets", "message"),
    [
        ([], "at least one"),
        ([{"from": "10", "to": "5", "rate": "1"}], "to must be above from"),
        ([{"from": "0", "to": "10", "rate": "101"}], "between 0 and 100"),
        ([{"from": "0", "to": "10", "rate": "-1"}], "between 0 and 100"),
        ([{"from": "-1", "to": "10", "rate": "1"}], "not be negative"),
        (
            [{"from": "0", "to": "20", "rate": "1"}, {"from": "10", "to": "30", "rate": "2"}],
            "Bracket 2 overlaps",
        ),
        (
            [{"from": "0", "rate": "1"}, {"from": "10", "to": "30", "rate": "2"}],
            "Bracket 1: only the last",
        ),
        ([{"from": "abc", "rate": "1"}], "not a number"),
        ([{"from": "0", "rate": "1", "extra": 1}], "from, to and rate only"),
    ],
)
def test_invalid_brackets_are_refused_naming_the_bracket(brackets, message):
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        brackets_parse(brackets)
    assert message in str(exc.value.message_dict["brackets"])
