from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils import timezone

from apps.customers.models import AssignmentEvent, Membership
from apps.customers.services import (
    member_join,
    memberships_assign_pending,
    memberships_recompute,
    pending_memberships_stale,
)
from apps.guides.services import guide_create, guide_update
from apps.stores.models import Store
from apps.stores.services import store_network_changed, store_update
from tests.factories import BrandFactory, GuideFactory, StoreFactory

pytestmark = pytest.mark.django_db

NEAR_SQUARE = {"latitude": 31.2310, "longitude": 121.4740}
NEAR_LUJIAZUI = {"latitude": 31.2400, "longitude": 121.5010}


def test_new_member_is_bound_to_the_nearest_store_and_a_guide(shanghai, join):
    brand, square, _lujiazui = shanghai

    membership = join(brand, "+86 138-0013-8000", name="李雷", **NEAR_SQUARE)

    assert membership.customer.phone == "13800138000"
    assert membership.assignment_status == Membership.Status.ASSIGNED
    assert membership.store == square
    assert membership.guide.store == square
    assert membership.distance_km == pytest.approx(0.07, abs=0.02)
    assert membership.bound_at is not None
    event = membership.events.get()
    assert (event.reason, event.to_store, event.to_guide) == (
        AssignmentEvent.Reason.NEW_MEMBER,
        square,
        membership.guide,
    )


def test_store_not_carrying_the_brand_or_closed_is_never_chosen(shanghai, join):
    brand, square, lujiazui = shanghai
    StoreFactory(code="OTHER-BRAND", brands=[BrandFactory(code="BMB")], **NEAR_SQUARE)
    store_update(store=square, is_active=False)

    membership = join(brand, "13800138001", **NEAR_SQUARE)

    assert membership.store == lujiazui


def test_service_radius_excludes_a_store_that_does_not_reach(shanghai, join):
    brand, square, lujiazui = shanghai
    store_update(store=square, service_radius_km=0.01)

    membership = join(brand, "13800138002", **NEAR_SQUARE)

    assert membership.store == lujiazui


def test_member_without_location_or_store_in_range_stays_unassigned(shanghai, join):
    brand, square, lujiazui = shanghai
    store_update(store=square, service_radius_km=50)
    store_update(store=lujiazui, service_radius_km=50)

    no_location = join(brand, "13800138003")
    far_away = join(brand, "13800138004", latitude=39.9, longitude=116.4)

    assert (no_location.assignment_status, no_location.unassigned_reason) == (
        "unassigned",
        "no_location",
    )
    assert (far_away.assignment_status, far_away.unassigned_reason) == (
        "unassigned",
        "no_store_in_range",
    )
    assert far_away.store is None


def test_explicit_store_and_guide_from_a_qr_code_win_over_location(shanghai, join):
    brand, _square, lujiazui = shanghai
    chosen = lujiazui.guides.get(employee_no="SH-LJZ-2")

    membership = join(brand, "13800138005", store=lujiazui, guide=chosen, **NEAR_SQUARE)

    assert (membership.store, membership.guide) == (lujiazui, chosen)
    assert membership.events.get().reason == AssignmentEvent.Reason.EXPLICIT


def test_explicit_guide_alone_implies_their_store(shanghai, join):
    brand, _square, lujiazui = shanghai
    chosen = lujiazui.guides.get(employee_no="SH-LJZ-1")

    membership = join(brand, "13800138006", guide=chosen)

    assert (membership.store, membership.guide) == (lujiazui, chosen)


@pytest.mark.parametrize(
    ("case", "field"),
    [("guide_elsewhere", "guide"), ("store_without_brand", "store"), ("bad_phone", None)],
)
def test_invalid_explicit_choice_is_refused_and_nothing_is_written(shanghai, join, case, field):
    brand, square, lujiazui = shanghai
    kwargs = {
        "guide_elsewhere": {"store": square, "guide": lujiazui.guides.first()},
        "store_without_brand": {"store": StoreFactory(code="NOPE")},
        "bad_phone": {},
    }[case]
    phone = "12345" if case == "bad_phone" else "13800138007"

    with pytest.raises(ValidationError) as error:
        join(brand, phone, **kwargs)

    if field:
        assert field in error.value.message_dict
    assert not Membership.objects.exists()


def test_guides_are_filled_least_loaded_first_ties_by_employee_no(shanghai, join):
    brand, _square, _lujiazui = shanghai

    guides = [join(brand, f"1390000000{i}", **NEAR_SQUARE).guide.employee_no for i in range(5)]

    assert guides == ["SH-SQ-1", "SH-SQ-2", "SH-SQ-1", "SH-SQ-2", "SH-SQ-1"]


def test_guide_load_counts_only_the_same_brand(shanghai, join):
    brand, square, _lujiazui = shanghai
    other = BrandFactory(code="BMB")
    square.brands.add(other)
    join(other, "13900000001", **NEAR_SQUARE)  # goes to SH-SQ-1 for brand BMB

    membership = join(brand, "13900000002", **NEAR_SQUARE)

    assert membership.guide.employee_no == "SH-SQ-1"


def test_joining_again_returns_the_same_membership_unchanged(shanghai, join):
    brand, square, _lujiazui = shanghai
    first = join(brand, "13800138008", **NEAR_SQUARE)

    again = join(brand, "138 0013 8008", **NEAR_LUJIAZUI)

    assert again.pk == first.pk
    assert again.store == square
    assert Membership.objects.count() == 1


def test_store_without_guides_assigns_the_store_then_a_new_guide_picks_members_up(
    django_capture_on_commit_callbacks, join
):
    brand = BrandFactory(code="AUR")
    lonely = StoreFactory(code="LONELY", brands=[brand], **NEAR_SQUARE)

    waiting = join(brand, "13800138009", **NEAR_SQUARE)
    assert (waiting.store, waiting.guide, waiting.unassigned_reason) == (
        lonely,
        None,
        "no_guide_available",
    )

    with django_capture_on_commit_callbacks(execute=True):
        newcomer = guide_create(employee_no="N1", name="新人", store=lonely)

    waiting.refresh_from_db()
    assert waiting.guide == newcomer
    assert waiting.unassigned_reason == ""


def test_closing_a_store_moves_its_members_to_their_next_nearest_store(
    shanghai, join, django_capture_on_commit_callbacks
):
    brand, square, lujiazui = shanghai
    members = [join(brand, f"1370000000{i}", **NEAR_SQUARE) for i in range(3)]
    qr_member = join(brand, "13700000009", store=square)  # no location of their own

    with django_capture_on_commit_callbacks(execute=True):
        store_update(store=square, is_active=False)

    for membership in [*members, qr_member]:
        membership.refresh_from_db()
        assert membership.store == lujiazui
        assert membership.guide.store == lujiazui
        event = membership.events.order_by("-pk").first()
        assert (event.reason, event.from_store, event.to_store) == (
            "store_closed",
            square,
            lujiazui,
        )


def test_a_guide_leaving_hands_members_to_the_remaining_guides_least_loaded_first(
    join, django_capture_on_commit_callbacks
):
    brand = BrandFactory(code="AUR")
    store = StoreFactory(code="ST", brands=[brand], **NEAR_SQUARE)
    leaver = GuideFactory(employee_no="A-LEAVER", store=store)
    for phone in ("13600000001", "13600000002", "13600000003", "13600000004"):
        join(brand, phone, **NEAR_SQUARE)
    assert leaver.memberships.count() == 4
    busy = GuideFactory(employee_no="B-BUSY", store=store)
    idle = GuideFactory(employee_no="C-IDLE", store=store)
    Membership.objects.filter(pk=leaver.memberships.first().pk).update(guide=busy)

    with django_capture_on_commit_callbacks(execute=True):
        guide_update(guide=leaver, is_active=False)

    assert leaver.memberships.count() == 0
    # busy held 1, idle 0: the three handed over even them out at 2 each.
    assert (busy.memberships.count(), idle.memberships.count()) == (2, 2)
    reasons = set(
        AssignmentEvent.objects.filter(from_guide=leaver).values_list("reason", flat=True)
    )
    assert reasons == {"guide_left"}


def test_a_store_opening_is_seen_by_the_very_next_assignment(shanghai, join):
    brand, _square, _lujiazui = shanghai
    join(brand, "13500000000", **NEAR_SQUARE)  # builds and caches the index
    right_here = StoreFactory(code="NEW", brands=[brand], latitude=31.2401, longitude=121.5011)
    store_network_changed()

    assert join(brand, "13500000001", **NEAR_LUJIAZUI).store == right_here


def test_bulk_assignment_matches_the_single_path(shanghai):
    brand, square, lujiazui = shanghai
    for i in range(6):
        member_join(brand=brand, phone=f"1880000000{i}", source="import", **NEAR_SQUARE)
    member_join(brand=brand, phone="18800000009", source="import", **NEAR_LUJIAZUI)
    member_join(brand=brand, phone="18800000008", source="import")

    assigned = memberships_assign_pending()

    assert assigned == 8
    counts = dict(
        Membership.objects.filter(store=square)
        .values_list("guide__employee_no")
        .annotate(n=Count("pk"))
    )
    assert counts == {"SH-SQ-1": 3, "SH-SQ-2": 3}
    assert Membership.objects.get(customer__phone="18800000009").store == lujiazui
    assert Membership.objects.get(customer__phone="18800000008").unassigned_reason == "no_location"
    assert AssignmentEvent.objects.count() == 7
    assert memberships_assign_pending() == 0  # nothing left to do


def test_recompute_moves_members_whose_nearest_store_changed(shanghai, join):
    brand, square, lujiazui = shanghai
    member = join(brand, "13300000000", **NEAR_LUJIAZUI)
    assert member.store == lujiazui
    # The store moved across the river without the usual closing procedure.
    Store.objects.filter(pk=lujiazui.pk).update(latitude=31.30, longitude=121.60)
    store_network_changed()

    assert memberships_recompute() == 1

    member.refresh_from_db()
    assert member.store == square
    assert member.events.order_by("-pk").first().reason == "rebalanced"


def test_stale_pending_members_are_found_for_requeueing(shanghai):
    brand, _square, _lujiazui = shanghai
    member_join(
        brand=brand, phone="13200000000", source="h5",
        joined_at=timezone.now() - timedelta(minutes=6),
    )  # fmt: skip
    member_join(brand=brand, phone="13200000001", source="h5")

    stale = pending_memberships_stale(older_than_seconds=300, limit=10)

    assert [Membership.objects.get(pk=pk).customer.phone for pk in stale] == ["13200000000"]


def test_a_store_found_closed_at_binding_time_is_skipped_for_the_next_nearest(shanghai, join):
    brand, square, lujiazui = shanghai
    join(brand, "13100000000", **NEAR_SQUARE)  # the index now holds both stores
    # Closed behind the index's back: the version counter did not move.
    Store.objects.filter(pk=square.pk).update(is_active=False)

    membership = join(brand, "13100000001", **NEAR_SQUARE)

    assert membership.store == lujiazui
