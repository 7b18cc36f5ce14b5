"""The phone pages of guides and store managers, read through the Django test client."""

from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from apps.customers.models import AssignmentEvent, Customer, Membership
from apps.engagement.models import FollowUpTask, MemberNote, MemberTag, Tag
from apps.engagement.services import follow_up_create_manual, tag_add
from tests.commissions.factories import CommissionEntryFactory, OrderFactory

pytestmark = pytest.mark.django_db


def client_of(user, language="en") -> Client:
    client = Client(headers={"accept-language": language})
    client.force_login(user)
    return client


@pytest.fixture
def member(org):
    membership = org.members["G-SH01"]
    Customer.objects.filter(pk=membership.customer_id).update(name="林晓")
    Membership.objects.filter(pk=membership.pk).update(distance_km=2.2354984702927294)
    order = OrderFactory(
        brand=membership.brand,
        store=membership.store,
        member_phone=membership.customer.phone,
        amount=Decimal("388.00"),
        business_date=timezone.localdate(),
        attributed_guide=membership.guide,
    )
    CommissionEntryFactory(
        order=order, guide=membership.guide, store=membership.store, brand=membership.brand,
        base_amount=Decimal("388.00"), rate=Decimal("3.00"), amount=Decimal("11.64"),
        business_date=order.business_date,
    )  # fmt: skip
    AssignmentEvent.objects.create(
        membership=membership, to_store=membership.store, to_guide=membership.guide,
        reason="explicit",
    )  # fmt: skip
    Membership.objects.filter(pk=membership.pk).update(requested_guide=membership.guide)
    membership.refresh_from_db()
    return membership


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("user", ["guide_sh01", "manager_sh01"])
def test_every_phone_page_answers_for_guides_and_managers(org, member, user, language):
    client = client_of(org.users[user], language)

    for path in [
        "/admin/",
        "/admin/my/members/",
        f"/admin/my/members/{member.pk}/",
        "/admin/my/follow-ups/",
        "/admin/my/commission/",
        "/admin/my/recruit/",
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        assert member.customer.phone not in html, path


def test_member_profile_tells_the_guide_what_matters_without_coordinates(org, member):
    html = (
        client_of(org.users["guide_sh01"]).get(f"/admin/my/members/{member.pk}/").content.decode()
    )

    assert "2.2 km" in html and "2.2354984702927294" not in html
    assert "31.2304" not in html and "Location (WGS-84)" not in html
    assert "¥388.00" in html and "¥11.64" in html
    assert "Joined through your QR code at Store SH01" in html


def test_hq_sees_the_full_phone_and_the_location(org, member):
    html = client_of(org.users["hq"]).get(f"/admin/my/members/{member.pk}/").content.decode()

    assert member.customer.phone in html
    assert "Location (WGS-84)" in html


def test_members_are_searched_by_name_or_full_phone_only(org, member):
    client = client_of(org.users["guide_sh01"])

    by_name = client.get("/admin/my/members/", {"q": "林"}).content.decode()
    by_phone = client.get("/admin/my/members/", {"q": member.customer.phone}).content.decode()
    by_part = client.get("/admin/my/members/", {"q": member.customer.phone[-4:]}).content.decode()

    assert "林晓" in by_name
    assert "林晓" in by_phone
    assert "林晓" not in by_part


def test_filters_by_tag_and_no_purchase(org, member):
    other = org.members["M-SH01"]  # the manager's member: same store, no purchases
    tag_add(membership=member, name="VIP", user=org.users["manager_sh01"])
    tag = Tag.objects.get(name="VIP")
    client = client_of(org.users["manager_sh01"])

    tagged = client.get("/admin/my/members/", {"tag": tag.pk})
    dormant = client.get("/admin/my/members/", {"dormant": "on"})
    bad = client.get("/admin/my/members/", {"tag": "x"})

    assert [m.pk for m in tagged.context["page"]] == [member.pk]
    assert [m.pk for m in dormant.context["page"]] == [other.pk]
    assert bad.status_code == 400


def test_member_list_runs_a_fixed_number_of_queries(org, member, django_assert_max_num_queries):
    client = client_of(org.users["manager_sh01"])
    client.get("/admin/my/members/")  # warm the session and the user
    for membership in Membership.objects.filter(store=member.store):
        tag_add(membership=membership, name="常客", user=None)

    with django_assert_max_num_queries(12) as first:
        client.get("/admin/my/members/")
    for _ in range(5):
        from tests.factories import MembershipFactory

        tag_add(membership=MembershipFactory(guide=member.guide), name="新客", user=None)
    with django_assert_max_num_queries(len(first.captured_queries)):
        client.get("/admin/my/members/")


def test_guide_adds_notes_and_tags_and_closes_follow_ups(org, member):
    client = client_of(org.users["guide_sh01"])
    path = f"/admin/my/members/{member.pk}/"
    task = follow_up_create_manual(
        membership=member, title="问问尺码", due_date=timezone.localdate(), user=None
    )

    client.post(path, {"action": "note", "body": "喜欢蓝色"})
    client.post(path, {"action": "tag_add", "name": "蓝色控"})
    skip = client.post(
        path, {"action": "close", "task": task.pk, "status": "skipped", "outcome_note": ""}
    )
    done = client.post(
        path, {"action": "close", "task": task.pk, "status": "done", "outcome_note": "买了"}
    )
    manual = client.post(path, {"action": "manual", "title": "x", "due_date": "2026-12-01"})

    assert MemberNote.objects.get(membership=member).author_name == org.guides["G-SH01"].name
    assert MemberTag.objects.filter(membership=member, tag__name="蓝色控").exists()
    assert skip.status_code == 302 and done.status_code == 302
    task.refresh_from_db()
    assert (task.status, task.outcome_note) == ("done", "买了")
    assert manual.status_code == 403


def test_store_manager_asks_a_guide_to_follow_up(org, member):
    client = client_of(org.users["manager_sh01"])

    client.post(
        f"/admin/my/members/{member.pk}/",
        {"action": "manual", "title": "邀请参加新品会", "due_date": "2026-12-05"},
    )

    task = FollowUpTask.objects.get(membership=member)
    assert (task.guide, task.kind, task.title) == (member.guide, "manual", "邀请参加新品会")


def test_a_member_out_of_scope_looks_missing(org):
    client = client_of(org.users["guide_sh01"])
    other = org.members["G-SH02"]

    assert client.get(f"/admin/my/members/{other.pk}/").status_code == 404
    note = client.post(f"/admin/my/members/{other.pk}/", {"action": "note", "body": "x"})
    assert note.status_code == 404
    assert not MemberNote.objects.exists()


def test_commission_page_puts_amounts_first_and_splits_a_managers_store(org, member):
    CommissionEntryFactory(
        beneficiary="store", guide=None, store=member.store, brand=member.brand,
        amount=Decimal("19.40"), business_date=timezone.localdate(),
    )  # fmt: skip

    guide_page = client_of(org.users["guide_sh01"]).get("/admin/my/commission/")
    manager_page = client_of(org.users["manager_sh01"]).get("/admin/my/commission/")

    assert guide_page.context["shares"] is None
    assert "¥11.64" in guide_page.content.decode()
    shares = [(s.beneficiary, s.amount) for s in manager_page.context["shares"]]
    assert shares[0] == ("store", Decimal("19.40"))
    assert ("guide", Decimal("11.64")) in shares


def test_sidebar_shows_guides_only_their_pages_and_hq_a_system_section(org):
    guide_html = client_of(org.users["guide_sh01"]).get("/admin/").content.decode()
    hq_html = client_of(org.users["hq"]).get("/admin/").content.decode()

    assert "/admin/my/recruit/" in guide_html
    assert "/admin/commissions/commissionplan/" not in guide_html
    assert "/admin/django_celery_beat/periodictask/" not in guide_html
    assert ">System<" in hq_html.replace("\n", "").replace("  ", "") or "System" in hq_html
    assert "/admin/django_celery_beat/clockedschedule/" in hq_html


def test_hq_and_region_dashboards(org, member):
    hq = client_of(org.users["hq"]).get("/admin/")
    region = client_of(org.users["region_east"]).get("/admin/")

    assert hq.context["hq_dashboard"]["members"]["total"] == 4
    assert "store-ranking" in region.content.decode()
    ranked = [row["store"] for row in region.context["region_dashboard"]["stores"]]
    assert org.stores["BJ01"].name not in ranked


def test_the_membership_admin_shows_no_coordinates_but_to_hq(org, member):
    path = f"/admin/customers/membership/{member.pk}/change/"

    guide_html = client_of(org.users["guide_sh01"]).get(path).content.decode()
    hq_html = client_of(org.users["hq"]).get(path).content.decode()

    assert "31.2304" not in guide_html and "121.4737" not in guide_html
    assert "2.2" in guide_html and "2.2354984702927294" not in guide_html
    assert "31.2304" in hq_html


def test_region_managers_and_hq_open_a_stores_codes(org):
    region = client_of(org.users["region_east"])

    mine = region.get("/admin/my/recruit/", {"store": "SH01"})
    elsewhere = region.get("/admin/my/recruit/", {"store": "BJ01"})
    hq = client_of(org.users["hq"]).get("/admin/my/recruit/", {"store": "BJ01"})
    guide = client_of(org.users["guide_sh01"]).get("/admin/my/recruit/", {"store": "SH02"})

    assert [c["kind"] for c in mine.context["codes"]] == ["store", "store"]
    assert elsewhere.status_code == 404
    assert hq.status_code == 200
    assert {c["kind"] for c in guide.context["codes"]} == {"guide"}
