from decimal import Decimal
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from apps.commissions.calculations import (
    clawback_cents,
    commission_amount,
    commission_cents,
    quantize_money,
)

cents = st.integers(min_value=1, max_value=999_999_999)
rates_bp = st.integers(min_value=0, max_value=10_000)


def test_quantize_money_rounds_halves_up_not_to_even():
    assert quantize_money(Decimal("2.345")) == Decimal("2.35")
    assert quantize_money(Decimal("2.355")) == Decimal("2.36")
    assert quantize_money(Decimal("-2.345")) == Decimal("-2.35")


def test_commission_of_a_half_cent_rounds_up():
    # 0.50 × 1.00 % = 0.005
    assert commission_amount(Decimal("0.50"), Decimal("1.00")) == Decimal("0.01")


@given(base=cents, rate=rates_bp)
def test_integer_cent_formula_equals_decimal_half_up(base, rate):
    expected = commission_amount(Decimal(base) / 100, Decimal(rate) / 100)

    assert Decimal(commission_cents(base, rate)) / 100 == expected


@st.composite
def order_and_refund_split(draw):
    order_cents = draw(cents)
    original = draw(st.integers(min_value=0, max_value=order_cents))
    cuts = sorted(draw(st.lists(st.integers(1, order_cents - 1), max_size=8, unique=True))
                  if order_cents > 1 else [])  # fmt: skip
    bounds = [0, *cuts, order_cents]
    return order_cents, original, [b - a for a, b in pairwise(bounds)]


@given(order_and_refund_split())
def test_any_split_of_refunds_nets_to_exactly_zero_on_full_refund(case):
    order_cents, original, refunds = case
    refunded = 0
    clawed = 0
    for refund in refunds:
        claw = clawback_cents(original, order_cents, refunded, refund)
        assert 0 <= claw <= original
        clawed += claw
        refunded += refund

    assert original - clawed == 0


@given(order_and_refund_split())
def test_partial_refunds_never_take_back_more_than_was_earned(case):
    order_cents, original, refunds = case
    refunded = clawed = 0
    for refund in refunds[:-1]:
        clawed += clawback_cents(original, order_cents, refunded, refund)
        refunded += refund
        assert clawed <= original
