"""The admin takes from the URL only the lookups its filters declare, for every role.

A changelist's result count answers any question its query string asks: with
``?phone__startswith=1381`` allowed, a guide reads a masked number back digit
by digit. Every undeclared lookup is refused with a 400, HQ included; what the
filters and the date hierarchy offer keeps working.
"""

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory

from apps.core.admin_scoping import HQWritableModelAdmin
from tests.commissions.factories import OrderFactory

pytestmark = pytest.mark.django_db

ROLES = ["guide_sh01", "manager_sh01", "region_east", "hq"]

# (changelist, lookup, value): each one narrows rows by something the role
# cannot see, or by a field no filter offers.
UNDECLARED = [
    ("customers/customer", "phone__startswith", "1381234"),
    ("customers/customer", "phone__regex", "^13812340002$"),
    ("customers/customer", "phone__gt", "13812340001"),
    ("customers/customer", "phone", "13812340002"),
    ("customers/customer", "name__startswith", "会"),
    ("customers/membership", "customer__phone__startswith", "1381234"),
    ("customers/membership", "customer__phone__regex", "^138"),
    ("customers/membership", "latitude__gt", "31"),
    ("customers/membership", "guide__phone__startswith", "139"),
    ("guides/guide", "phone__startswith", "1390000"),
    ("guides/guide", "phone__regex", "^139"),
    ("guides/guide", "user__password__startswith", "md5"),
    ("commissions/order", "member_phone__startswith", "1370000"),
    ("commissions/order", "member_phone__regex", "^137"),
    ("commissions/order", "member_phone__contains", "0001"),
    ("commissions/commissionentry", "order__member_phone__startswith", "137"),
    ("stores/store", "latitude__gt", "31"),
    ("stores/store", "code__startswith", "SH"),
]

# Lookups the admins declare (list_filter, date_hierarchy): still answered.
DECLARED = [
    ("customers/membership", "assignment_status__exact", "assigned"),
    ("customers/membership", "joined_at__year", "2026"),
    ("guides/guide", "is_active__exact", "1"),
    ("commissions/order", "business_date__gte", "2026-03-01"),
    ("commissions/order", "business_date__year", "2026"),
    ("stores/store", "city", "上海"),
]


@pytest.fixture
def orders(org):
    for number, guide in enumerate(org.guides.values(), start=1):
        OrderFactory(
            brand=org.brands[0],
            store=guide.store,
            attributed_guide=guide,
            member_phone=f"1370000{number:04d}",
        )


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("role", ROLES)
def test_an_undeclared_lookup_is_refused_and_a_declared_one_answers(org, orders, role):
    client = _client(org.users[role])

    # When the role puts each lookup in a changelist's query string
    answers = {
        (changelist, lookup): client.get(f"/admin/{changelist}/", {lookup: value}).status_code
        for changelist, lookup, value in UNDECLARED + DECLARED
    }

    # Then every undeclared one is refused and every declared one answers
    assert answers == {
        **{(changelist, lookup): 400 for changelist, lookup, _value in UNDECLARED},
        **{(changelist, lookup): 200 for changelist, lookup, _value in DECLARED},
    }


def test_a_partial_number_finds_nothing_while_the_full_one_finds_the_member(org):
    # Given a guide whose member's number shows as 138****0002
    client = _client(org.users["guide_sh01"])

    # When they search by a part of it, and by all of it
    partial = client.get("/admin/customers/customer/", {"q": "13812340"})
    full = client.get("/admin/customers/customer/", {"q": "13812340002"})

    # Then only the full number finds the member, and the page shows it masked
    assert list(partial.context["cl"].result_list) == []
    assert [c.phone for c in full.context["cl"].result_list] == ["13812340002"]
    assert "138****0002" in full.content.decode()


def _project_admins():
    return [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, HQWritableModelAdmin)
    ]


@pytest.mark.parametrize("role", ["hq", "region_east"])
def test_every_filter_link_the_admin_offers_is_a_declared_lookup(org, orders, role):
    # Given every admin of the project and every choice its filters show
    client = _client(org.users[role])
    links = 0
    for model, _model_admin in _project_admins():
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        page = client.get(url)
        if page.status_code == 403:
            continue
        for spec in page.context["cl"].filter_specs:
            # "All" and the first real choice of each filter
            for choice in list(spec.choices(page.context["cl"]))[:2]:
                # When the role follows the link
                response = client.get(url + choice["query_string"])
                links += 1

                # Then it answers, never "filtering by … not allowed"
                assert response.status_code == 200, (url, choice["query_string"])
    assert links > 15


def test_a_masked_role_gets_no_filter_over_a_phone_field(org):
    # Given an admin that lists a phone field among its filters (none does today)
    from apps.guides.admin import GuideAdmin
    from apps.guides.models import Guide

    model_admin = GuideAdmin(Guide, admin.site)
    model_admin.list_filter = [*GuideAdmin.list_filter, "phone"]
    masked, hq = RequestFactory().get("/"), RequestFactory().get("/")
    masked.user, hq.user = org.users["region_east"], org.users["hq"]

    # Then a role that sees masks gets neither the filter nor its lookups
    assert "phone" not in model_admin.get_list_filter(masked)
    assert not {"phone", "phone__isnull"} & model_admin.declared_lookups(masked)
    # And HQ keeps both
    assert "phone" in model_admin.get_list_filter(hq)
    assert "phone" in model_admin.declared_lookups(hq)
