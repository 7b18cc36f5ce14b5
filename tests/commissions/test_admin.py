import pytest
from django.urls import reverse

from apps.commissions.models import CommissionEntry, CommissionPlan, Order, Settlement
from tests.commissions.factories import CommissionPlanFactory, OrderFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_superuser=True))
    return client


@pytest.mark.parametrize(
    "model",
    ["brandcommissionpolicy", "settlementterms", "commissionplan", "order", "refund",
     "commissionentry", "settlement"],
)  # fmt: skip
def test_every_commissions_changelist_renders(admin_client, model, brand, store):
    CommissionPlanFactory(brand=brand)
    OrderFactory(brand=brand, store=store)

    response = admin_client.get(reverse(f"admin:commissions_{model}_changelist"))

    assert response.status_code == 200


def test_ledger_rows_are_read_only_in_the_admin(admin_client, brand, store):
    from apps.commissions import services

    CommissionPlanFactory(brand=brand)
    order = OrderFactory(brand=brand, store=store)
    services.commission_entries_write(order_id=order.pk)
    entry = CommissionEntry.objects.get()

    add = admin_client.get(reverse("admin:commissions_commissionentry_add"))
    change = admin_client.post(
        reverse("admin:commissions_commissionentry_change", args=[entry.pk]), {"amount": "99"}
    )
    delete = admin_client.post(
        reverse("admin:commissions_order_delete", args=[order.pk]), {"post": "yes"}
    )

    assert add.status_code == 403
    assert change.status_code == 403
    assert delete.status_code == 403
    assert Order.objects.exists()
    assert not Settlement.objects.exclude(status=Settlement.Status.OPEN).exists()


def test_plan_added_in_the_admin_gets_its_specificity_and_overlap_check(admin_client, brand):
    url = reverse("admin:commissions_commissionplan_add")
    body = {"brand": brand.pk, "store_kind": "", "category": "shoes", "guide_rate": "1.00",
            "store_rate": "2.00", "valid_from": "2026-01-01"}  # fmt: skip

    admin_client.post(url, body)

    assert CommissionPlan.objects.get().specificity == CommissionPlan.Specificity.CATEGORY
