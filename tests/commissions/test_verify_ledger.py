"""``manage.py verify_ledger``: a ledger written by the services passes; each breach is named."""

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F

from apps.commissions import services
from apps.commissions.models import CommissionEntry, Order, Settlement
from apps.commissions.selectors import LedgerScope, ledger_verify
from apps.stores.models import Brand
from tests.commissions.factories import CommissionPlanFactory, SettlementTermsFactory
from tests.factories import BrandFactory, GuideFactory, StoreFactory

pytestmark = pytest.mark.django_db

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
PAID_AT = dt.datetime(2026, 3, 10, 18, 30, tzinfo=SHANGHAI)
DAY = PAID_AT.date()
NO_GRACE = dt.timedelta(0)


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


@pytest.fixture
def ledger(django_capture_on_commit_callbacks, brand, store):
    """A small ledger written the way production writes it.

    Lines in two categories, partial and full refunds, a paid settlement whose
    order is then refunded (a negative settlement) and a later settlement that
    carries that balance forward. A second brand has a clean order of its own.
    """
    CommissionPlanFactory(brand=brand, guide_rate=Decimal("3.00"), store_rate=Decimal("5.00"))
    CommissionPlanFactory(
        brand=brand, category="shoes", guide_rate=Decimal("4.50"), store_rate=Decimal("6.25")
    )
    SettlementTermsFactory(brand=brand, mode="T1", hold_days=1)
    guide = GuideFactory(employee_no="E1", store=store)
    other_brand = BrandFactory(code="BOR")
    other_store = StoreFactory(code="BJ01", brands=[other_brand])
    CommissionPlanFactory(brand=other_brand)

    def ingest(order_no, amount, *, at=PAID_AT, lines=(), **extra):
        fields = {"brand": brand, "store": store, "guide": guide, **extra}
        with django_capture_on_commit_callbacks(execute=True):
            order, _created = services.order_ingest(
                order_no=order_no, amount=Decimal(amount), paid_at=at, lines=list(lines), **fields
            )
        return order

    def refund(order, refund_no, amount, at):
        with django_capture_on_commit_callbacks(execute=True):
            services.refund_create(
                order=order, refund_no=refund_no, amount=Decimal(amount), refunded_at=at
            )

    line = services.LineInput
    ingest("PLAIN", "100.00")
    ingest(
        "LINES",
        "100.01",
        lines=[
            line(sku="S1", category="shoes", quantity=1, amount=Decimal("60.00")),
            line(sku="B1", category="bags", quantity=2, amount=Decimal("40.01")),
        ],
    )
    split = ingest("SPLIT", "33.33")
    refund(split, "SPLIT-R1", "10.00", PAID_AT + dt.timedelta(hours=1))
    refund(split, "SPLIT-R2", "23.33", PAID_AT + dt.timedelta(hours=2))
    partial = ingest("PARTIAL", "77.77")
    refund(partial, "PARTIAL-R1", "0.01", PAID_AT + dt.timedelta(hours=3))
    later = ingest("LATER", "200.00")
    ingest("ELSEWHERE", "50.00", brand=other_brand, store=other_store, guide=None)
    services.settlement_run(run_date=DAY + days(1))
    for settlement in Settlement.objects.filter(brand=brand):
        services.settlement_mark_paid(settlement=settlement, payout_ref=f"PAY-{settlement.pk}")
    refund(later, "LATER-R1", "200.00", PAID_AT + days(1))
    services.settlement_run(run_date=DAY + days(2))  # only the clawback: negative
    ingest("NEXT", "300.00", at=PAID_AT + days(2))
    services.settlement_run(run_date=DAY + days(3))  # carries the negative balance
    assert Settlement.objects.filter(carried_from__isnull=False).count() == 2  # guide, store
    return brand


def verify(**scope):
    return ledger_verify(scope=LedgerScope(**scope), grace=NO_GRACE)


def codes(report) -> set[str]:
    return {breach.code for breach in report.breaches}


def an_entry(**filters) -> CommissionEntry:
    return CommissionEntry.objects.filter(**filters).order_by("pk").first()


def test_a_ledger_written_by_the_services_passes(ledger):
    report = verify()

    assert report.breaches == []
    assert (report.orders, report.settlements) == (7, Settlement.objects.count())
    assert report.entries == CommissionEntry.objects.count() > 20
    out = StringIO()
    call_command("verify_ledger", "--grace-minutes=0", stdout=out)
    assert out.getvalue().strip() == (
        f"ledger OK: 7 orders, {report.entries} entries, {report.settlements} settlements"
    )


def _raise_rate():
    CommissionEntry.objects.filter(pk=an_entry(refund__isnull=True).pk).update(rate=Decimal("3.50"))


def _round_down():
    CommissionEntry.objects.filter(pk=an_entry(refund__isnull=True).pk).update(
        amount=F("amount") - Decimal("0.01")
    )


def _shrink_base():
    CommissionEntry.objects.filter(pk=an_entry(category="shoes", refund__isnull=True).pk).update(
        base_amount=Decimal("59.99")
    )


def _move_to_other_store():
    CommissionEntry.objects.filter(pk=an_entry(refund__isnull=True).pk).update(
        store=StoreFactory(code="ZZ99")
    )


def _dangle_order():
    CommissionEntry.objects.filter(pk=an_entry(refund__isnull=True).pk).update(order_id=999_999)


def _skew_clawback():
    entry = an_entry(refund__refund_no="SPLIT-R1", beneficiary="store")
    CommissionEntry.objects.filter(pk=entry.pk).update(amount=F("amount") - Decimal("0.01"))


def _lose_clawback():
    an_entry(refund__refund_no="LATER-R1", beneficiary="guide").delete()


def _misstate_refunded():
    Order.objects.filter(order_no="PARTIAL").update(refunded_amount=Decimal("0.02"))


def _write_twice():
    # The unique index makes this impossible; the check is the backstop if
    # the index were ever lost (a botched migration or restore).
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX entry_once_per_order")
    entry = an_entry(refund__isnull=True, settlement__isnull=False)
    entry.pk, entry.settlement = None, Settlement.objects.order_by("-pk").first()
    entry.save()


def _settle_into_other_beneficiary():
    entry = an_entry(beneficiary="guide", settlement__isnull=False)
    store_settlement = Settlement.objects.filter(beneficiary="store").first()
    CommissionEntry.objects.filter(pk=entry.pk).update(settlement=store_settlement)


def _settle_too_early():
    entry = an_entry(refund__isnull=True, settlement__isnull=False)
    Settlement.objects.filter(pk=entry.settlement_id).update(
        period_start=entry.business_date, period_end=entry.business_date
    )


def _misstate_total():
    Settlement.objects.filter(pk=Settlement.objects.order_by("pk").first().pk).update(
        entries_total=F("entries_total") + 1, total=F("total") + 1
    )


def _miscount():
    Settlement.objects.filter(pk=Settlement.objects.order_by("pk").first().pk).update(
        entry_count=F("entry_count") + 1
    )


def _carry_wrong_amount():
    Settlement.objects.filter(carried_from__isnull=False, beneficiary="guide").update(
        carried_forward=F("carried_forward") + Decimal("0.50"), total=F("total") + Decimal("0.50")
    )


@pytest.mark.parametrize(
    ("corrupt", "expected"),
    [
        (_raise_rate, "entry_rate"),
        (_round_down, "entry_amount"),
        (_shrink_base, "entry_base"),
        (_move_to_other_store, "entry_source"),
        (_dangle_order, "entry_source"),
        (_skew_clawback, "clawback"),
        (_lose_clawback, "clawback_missing"),
        (_lose_clawback, "refunded_net"),
        (_misstate_refunded, "order_refunded_amount"),
        (_write_twice, "entry_twice"),
        (_settle_into_other_beneficiary, "entry_settlement"),
        (_settle_too_early, "entry_settlement"),
        (_misstate_total, "settlement_total"),
        (_miscount, "settlement_total"),
        (_carry_wrong_amount, "settlement_carry"),
    ],
)
def test_each_breach_is_reported_and_fails_the_command(ledger, corrupt, expected):
    corrupt()

    report = verify()

    assert expected in codes(report)
    breach = next(b for b in report.breaches if b.code == expected)
    assert breach.count >= 1 and breach.examples
    out = StringIO()
    with pytest.raises(CommandError, match="ledger has breaches"):
        call_command("verify_ledger", "--grace-minutes=0", stdout=out)
    assert f"FAIL {expected}: {breach.title}" in out.getvalue()


def test_report_shows_money_readably_and_counts_beyond_the_examples(ledger):
    # Given every store entry of the brand rounded a cent short
    CommissionEntry.objects.filter(beneficiary="store", refund__isnull=True).update(
        amount=F("amount") - Decimal("0.01")
    )
    broken = CommissionEntry.objects.filter(beneficiary="store", refund__isnull=True).count()

    out = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_ledger", "--grace-minutes=0", "--examples=2", stdout=out)

    text = out.getvalue()
    assert (
        f"FAIL entry_amount: order entry amount is not base × rate rounded half up — {broken}"
        in text
    )
    assert "base=100.00  rate=5.00%  amount=4.99  expected=5.00" in text
    assert f"… and {broken - 2} more" in text


def test_a_fresh_refund_is_given_time_for_its_clawback(ledger, django_capture_on_commit_callbacks):
    # Given a refund received just now whose clawback task has not run yet
    with django_capture_on_commit_callbacks(execute=False):
        services.refund_create(
            order=Order.objects.get(order_no="PARTIAL"), refund_no="PARTIAL-R2",
            amount=Decimal("1.00"), refunded_at=PAID_AT + days(3),
        )  # fmt: skip

    # Then the default grace period does not report it yet; without grace it is missing
    assert ledger_verify().ok
    assert codes(verify()) == {"clawback_missing", "refunded_net"}


def test_scope_limits_the_check_to_a_brand_or_dates(ledger):
    # Given a breach on the first business date of brand AUR
    CommissionEntry.objects.filter(pk=an_entry(order__order_no="PLAIN").pk).update(
        rate=Decimal("9.00")
    )
    other_brand = Brand.objects.get(code="BOR")
    other = ledger_verify(scope=LedgerScope(brand_id=other_brand.pk))

    assert other.ok and other.orders == 1
    assert not verify(brand_id=ledger.pk).ok
    assert verify(date_from=DAY + days(1)).ok
    assert not verify(date_from=DAY, date_to=DAY).ok
    out = StringIO()
    call_command("verify_ledger", "--brand=BOR", stdout=out)
    assert out.getvalue().startswith("ledger OK: 1 orders")


def test_bad_arguments_are_refused(ledger):
    with pytest.raises(CommandError, match="Unknown brand"):
        call_command("verify_ledger", "--brand=NOPE")
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("verify_ledger", "--date-from=10/03/2026")
    with pytest.raises(CommandError, match="after"):
        call_command("verify_ledger", "--date-from=2026-03-11", "--date-to=2026-03-10")
