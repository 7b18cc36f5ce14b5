"""Bad input accepted until now: each is a 400 naming the field (or a refusal), writing nothing."""

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.commissions import services
from apps.commissions.models import CommissionEntry, Order, Refund, Settlement
from apps.commissions.selectors import ledger_verify
from tests.commissions.factories import CommissionPlanFactory, OrderFactory
from tests.factories import GuideFactory, StoreFactory

pytestmark = pytest.mark.django_db

ORDERS_URL = "/api/v1/orders/"


@pytest.fixture
def plan(brand, store):
    return CommissionPlanFactory(brand=brand, valid_from=dt.date(2020, 1, 1))


@pytest.fixture
def post(integration_client, django_capture_on_commit_callbacks):
    def _post(url, body):
        with django_capture_on_commit_callbacks(execute=True):
            return integration_client.post(url, body, format="json")

    return _post


def order_body(**overrides):
    return {
        "order_no": "POS-1", "brand": "AUR", "store": "SH01", "amount": "100.00",
        "paid_at": (timezone.now() - dt.timedelta(hours=1)).isoformat(), **overrides,
    }  # fmt: skip


# Times --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ahead", "status"),
    [
        (dt.timedelta(days=365), 400),
        (dt.timedelta(minutes=11), 400),
        (dt.timedelta(minutes=9), 201),
    ],
)
def test_paid_at_more_than_ten_minutes_ahead_of_the_clock_is_refused(post, plan, ahead, status):
    response = post(ORDERS_URL, order_body(paid_at=(timezone.now() + ahead).isoformat()))

    assert response.status_code == status, response.data
    if status == 400:
        assert "paid_at" in response.data
        assert not Order.objects.exists()


def test_a_refund_dated_before_its_order_is_refused(post, plan):
    paid_at = timezone.now() - dt.timedelta(hours=1)
    post(ORDERS_URL, order_body(paid_at=paid_at.isoformat()))

    response = post(
        f"{ORDERS_URL}POS-1/refunds/",
        {"refund_no": "RF-1", "amount": "10.00",
         "refunded_at": (paid_at - dt.timedelta(seconds=1)).isoformat()},
    )  # fmt: skip

    assert response.status_code == 400
    assert "refunded_at" in response.data
    assert not Refund.objects.exists()


def test_a_refund_dated_in_the_future_is_refused(post, plan):
    post(ORDERS_URL, order_body())

    response = post(
        f"{ORDERS_URL}POS-1/refunds/",
        {"refund_no": "RF-1", "amount": "10.00",
         "refunded_at": (timezone.now() + dt.timedelta(days=2)).isoformat()},
    )  # fmt: skip

    assert response.status_code == 400
    assert "refunded_at" in response.data


# Guides and numbers --------------------------------------------------------------------------


def test_an_order_naming_a_guide_of_another_store_is_refused(post, plan, brand):
    elsewhere = StoreFactory(code="SH99", brands=[brand])
    GuideFactory(employee_no="E-ELSEWHERE", store=elsewhere)

    response = post(ORDERS_URL, order_body(guide="E-ELSEWHERE"))

    assert response.status_code == 400
    assert "guide" in response.data
    assert not Order.objects.exists()


@pytest.mark.parametrize("number", ["POS/1", "POS 1", "POS?1", "POS#1", "POS%2F1", "..", "单号1"])
def test_an_order_number_its_refunds_url_cannot_carry_is_refused(post, plan, number):
    response = post(ORDERS_URL, order_body(order_no=number))

    assert response.status_code == 400
    assert "order_no" in response.data
    assert not Order.objects.exists()


@pytest.mark.parametrize("number", ["RF/1", "RF 1", "RF#1"])
def test_a_refund_number_a_url_cannot_carry_is_refused(post, plan, number):
    post(ORDERS_URL, order_body())

    response = post(
        f"{ORDERS_URL}POS-1/refunds/",
        {"refund_no": number, "amount": "1.00", "refunded_at": timezone.now().isoformat()},
    )

    assert response.status_code == 400
    assert "refund_no" in response.data


def test_the_services_refuse_such_numbers_too(brand, store):
    with pytest.raises(Exception) as error:
        services.order_ingest(
            order_no="A/B", brand=brand, store=store, amount=Decimal("1.00"),
            paid_at=timezone.now(),
        )  # fmt: skip
    assert "order_no" in error.value.message_dict
    order = OrderFactory(brand=brand, store=store)
    with pytest.raises(Exception) as error:
        services.refund_create(
            order=order, refund_no="R/1", amount=Decimal("1.00"), refunded_at=timezone.now()
        )
    assert "refund_no" in error.value.message_dict


def test_an_ordinary_number_reaches_its_refunds_url(post, plan):
    post(ORDERS_URL, order_body(order_no="JD-2026.11:11_A~1"))

    response = post(
        f"{ORDERS_URL}JD-2026.11:11_A~1/refunds/",
        {"refund_no": "RF-1", "amount": "1.00", "refunded_at": timezone.now().isoformat()},
    )

    assert response.status_code == 201, response.data


# Settling early -------------------------------------------------------------------------------


def test_settle_refuses_a_future_date_without_allow_future(brand, store, plan):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    OrderFactory(brand=brand, store=store, paid_at=timezone.now())
    services.commission_entries_write(business_date=timezone.localdate())

    with pytest.raises(CommandError, match="--allow-future"):
        call_command("settle", "--date", tomorrow.isoformat(), stdout=StringIO())
    assert not Settlement.objects.exclude(status=Settlement.Status.OPEN).exists()

    call_command("settle", "--date", tomorrow.isoformat(), "--allow-future", stdout=StringIO())
    assert Settlement.objects.filter(status=Settlement.Status.SETTLED).exists()


# The ledger check finds what is missing ------------------------------------------------------


def test_verify_ledger_finds_an_order_without_entries_at_any_date(brand, store, plan):
    long_ago = timezone.now() - dt.timedelta(days=400)
    ahead = timezone.now() + dt.timedelta(minutes=5)  # a till whose clock runs ahead
    for number, paid_at in enumerate([long_ago, ahead]):
        OrderFactory(
            brand=brand, store=store, order_no=f"LOST-{number}", paid_at=paid_at,
            created_at=timezone.now() - dt.timedelta(hours=1),
        )  # fmt: skip
    Order.objects.update(created_at=timezone.now() - dt.timedelta(hours=1))
    out = StringIO()

    with pytest.raises(CommandError):
        call_command("verify_ledger", stdout=out)

    assert "FAIL entry_missing" in out.getvalue()
    assert "2 found" in out.getvalue()
    services.commission_entries_write(order_ids=list(Order.objects.values_list("pk", flat=True)))
    assert ledger_verify().ok


def test_verify_ledger_finds_a_missing_guide_share(brand, store, plan):
    guide = GuideFactory(store=store)
    order = OrderFactory(brand=brand, store=store, attributed_guide=guide)
    services.commission_entries_write(order_id=order.pk)
    Order.objects.update(created_at=timezone.now() - dt.timedelta(hours=1))
    CommissionEntry.objects.filter(beneficiary="guide")._raw_delete(CommissionEntry.objects.db)

    report = ledger_verify()

    assert [(b.code, b.examples[0]["problem"]) for b in report.breaches] == [
        ("entry_missing", "guide share missing")
    ]


def test_an_order_of_a_brand_without_a_plan_is_not_missing_anything(brand, store):
    OrderFactory(brand=brand, store=store)
    Order.objects.update(created_at=timezone.now() - dt.timedelta(hours=1))

    assert ledger_verify().ok


# Sign-ups far away -----------------------------------------------------------------------------


def test_a_member_at_zero_zero_is_refused(integration_client, brand, store):
    response = integration_client.post(
        "/api/v1/members/",
        {"brand": "AUR", "phone": "13800000001", "latitude": 0, "longitude": 0},
        format="json",
    )

    assert response.status_code == 400
    assert "latitude" in response.data


def test_a_member_beyond_the_brands_reach_stays_unassigned(
    integration_client, django_capture_on_commit_callbacks, brand, store
):
    from apps.customers.models import Membership

    new_york = {"latitude": 40.7128, "longitude": -74.0060}
    with django_capture_on_commit_callbacks(execute=True):
        response = integration_client.post(
            "/api/v1/members/", {"brand": "AUR", "phone": "13800000002", **new_york}, format="json"
        )

    membership = Membership.objects.get(pk=response.data["id"])
    assert (membership.assignment_status, membership.unassigned_reason) == (
        "unassigned", "no_store_in_range",
    )  # fmt: skip


def test_a_brand_without_a_reach_assigns_the_nearest_store_however_far(
    django_capture_on_commit_callbacks, brand, store
):
    from apps.customers.models import Membership
    from apps.customers.services import member_join
    from apps.stores.services import brand_update

    brand_update(brand=brand, max_assign_km=None)
    with django_capture_on_commit_callbacks(execute=True):
        result = member_join(
            brand=brand, phone="13800000003", source="h5", latitude=40.7128, longitude=-74.0060
        )

    membership = Membership.objects.get(pk=result.membership.pk)
    assert membership.store == store
    assert membership.distance_km > 10_000
