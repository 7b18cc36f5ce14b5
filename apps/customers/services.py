"""Writes for members: joining a brand and binding to a store and a guide."""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.api import FAILED_FIX_MESSAGE
from apps.core.geo import haversine_km, is_failed_fix
from apps.core.phones import phone_normalise
from apps.core.tasking import task_enqueue, task_enqueue_coalesced
from apps.customers import task_names
from apps.customers.events import membership_bound
from apps.customers.models import (
    AssignmentEvent,
    Customer,
    Membership,
    MembershipConsent,
    PrivacyNotice,
)
from apps.customers.outbound_events import member_events_record
from apps.customers.placements import (
    placements_choose_guides,
    placements_read,
    placements_to_nearest,
    placements_transaction,
    placements_write,
)
from apps.customers.selectors import (
    active_guides_of_store,
    guide_load_subquery,
    store_carries_brand,
)
from apps.customers.store_index import store_index_for_brand, store_index_forget
from apps.guides.models import Guide
from apps.stores.models import Brand, Store

logger = logging.getLogger(__name__)

Status = Membership.Status
Reason = Membership.UnassignedReason
EventReason = AssignmentEvent.Reason


@dataclass(frozen=True)
class JoinResult:
    membership: Membership
    created: bool


def _explicit_choice_validate(
    *, brand: Brand, store: Store | None, guide: Guide | None
) -> Store | None:
    """Check a QR code's store and guide; return the store (the guide's, if only it was given)."""
    field = "store"
    if guide is not None:
        if store is not None and guide.store_id != store.pk:
            raise ValidationError({"guide": _("This guide does not work in the given store.")})
        if not guide.is_active:
            raise ValidationError({"guide": _("This guide is no longer active.")})
        if store is None:
            store, field = guide.store, "guide"
    if store is not None and not store_carries_brand(store=store, brand_id=brand.pk):
        raise ValidationError({field: _("This store is closed or does not carry the brand.")})
    return store


def member_join(
    *,
    brand: Brand,
    phone: str,
    name: str = "",
    source: str,
    latitude: float | None = None,
    longitude: float | None = None,
    store: Store | None = None,
    guide: Guide | None = None,
    joined_at: datetime | None = None,
) -> JoinResult:
    """Make the phone's owner a member of the brand and bind them, or queue their assignment.

    Joining again returns the existing membership unchanged. Coordinates are
    WGS-84; an explicit store (and guide) comes from a store's QR code. A QR
    code naming a guide binds the member to that guide at once, from the
    moment the sign-up is accepted: an order paid at the till a moment later
    (or, within the brand's till grace, a moment before) credits that guide,
    whichever message a worker handles first. Any other sign-up is bound by
    a worker, and the binding then dates from joining too.
    """
    phone = phone_normalise(phone)
    if (latitude is None) != (longitude is None):
        raise ValidationError({"latitude": _("Give latitude and longitude together.")})
    if latitude is not None and is_failed_fix(latitude, longitude):
        raise ValidationError({"latitude": FAILED_FIX_MESSAGE})
    existing = Membership.objects.filter(customer__phone=phone, brand=brand).first()
    if existing is not None:
        return JoinResult(existing, created=False)
    store = _explicit_choice_validate(brand=brand, store=store, guide=guide)
    try:
        with transaction.atomic():
            customer, _created = Customer.objects.get_or_create(
                phone=phone, defaults={"name": name}
            )
            membership = Membership(
                customer=customer,
                brand=brand,
                latitude=latitude,
                longitude=longitude,
                requested_store=store,
                requested_guide=guide,
                source=source,
                joined_at=joined_at or timezone.now(),
            )
            # Uniqueness is left to the database: the race is caught below.
            # The customer, brand, store and guide were just read or written:
            # checking that they exist would cost a query each.
            membership.full_clean(
                exclude=["customer", "brand", "requested_store", "requested_guide"],
                validate_unique=False,
                validate_constraints=False,
            )
            membership.save()
            if guide is not None and _membership_bind_at_sign_up(membership, store, guide):
                return JoinResult(membership, created=True)
    except IntegrityError:
        # A concurrent join of the same phone and brand won the race.
        existing = Membership.objects.filter(customer__phone=phone, brand=brand).first()
        if existing is None:
            raise
        return JoinResult(existing, created=False)
    if settings.TASK_COALESCING:
        memberships_waiting_queue()
    else:
        task_enqueue(task_names.MEMBERSHIP_ASSIGN_WITH_BACKLOG, membership.pk)
    return JoinResult(membership, created=True)


def _membership_bind_at_sign_up(membership: Membership, store: Store, guide: Guide) -> bool:
    """Bind a new QR-code member to the code's store and guide now; False if the store just closed.

    The store row is locked as the worker's binding locks it, so a store
    closing meanwhile waits and then moves this member too.
    """
    locked = Store.objects.select_for_update(no_key=True).filter(pk=store.pk, is_active=True)
    if not locked.exists():
        return False  # closed under the sign-up: the worker finds the member a store
    _membership_bind(membership, store=store, guide=guide, reason=EventReason.EXPLICIT)
    return True


def _membership_bind(
    membership: Membership, *, store: Store, guide: Guide | None, reason: str
) -> None:
    """Bind a pending membership to ``store`` and ``guide`` (locked by the caller) and say so.

    The first binding dates from joining: attribution then depends on when
    the member signed up, never on when a worker got to them.
    """
    membership.store, membership.guide = store, guide
    membership.distance_km = (
        None
        if membership.latitude is None
        else haversine_km(
            membership.latitude, membership.longitude, store.latitude, store.longitude
        )
    )
    membership.assignment_status = Status.ASSIGNED
    membership.unassigned_reason = "" if guide else Reason.NO_GUIDE_AVAILABLE
    membership.bound_at = membership.joined_at
    membership.save()
    logged_from = timezone.now()
    AssignmentEvent.objects.create(
        membership=membership, to_store=store, to_guide=guide, reason=reason
    )
    member_events_record(membership_ids=[membership.pk], since=logged_from)
    membership_bound.send(sender=Membership, membership_ids=[membership.pk])


def _guide_lock_least_loaded(*, store_id: int, brand_id: int) -> Guide | None:
    """Lock the store's active guides and return the one with the fewest members.

    The row locks make concurrent assignments to one store take turns, so
    their counts never drift apart by more than one. Loads are counted in the
    same statement that takes the locks.
    """
    guides = list(
        active_guides_of_store(store_id)
        .annotate(load=guide_load_subquery(brand_id=brand_id))
        .select_for_update(of=("self",))
    )
    if not guides:
        return None
    return min(guides, key=lambda g: (g.load, g.employee_no))


def _membership_choose_store(
    membership: Membership, *, honour_request: bool
) -> tuple[Store | None, str]:
    """Return the store a pending membership should join and why (explicit or nearest)."""
    requested = membership.requested_store if honour_request else None
    if requested is not None and store_carries_brand(store=requested, brand_id=membership.brand_id):
        return requested, EventReason.EXPLICIT
    if membership.latitude is None:
        return None, EventReason.NEW_MEMBER
    index = store_index_for_brand(membership.brand_id)
    found, _km = index.nearest([membership.latitude], [membership.longitude])
    if found[0] < 0:
        return None, EventReason.NEW_MEMBER
    return Store(pk=int(index.store_ids[found[0]])), EventReason.NEW_MEMBER


@transaction.atomic
def membership_assign(*, membership_id: int) -> Membership | None:
    """Bind a pending membership to its store and guide; a no-op once it is not pending."""
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("requested_store", "requested_guide")
        .filter(pk=membership_id)
        .first()
    )
    if membership is None or membership.assignment_status != Status.PENDING:
        return membership
    store, honour_request = None, True
    for _attempt in range(2):
        choice, reason = _membership_choose_store(membership, honour_request=honour_request)
        if choice is None:
            break
        # Locking the store row makes a concurrent closing wait for this
        # binding (and then move the member), or shows it closed here, in
        # which case the next attempt sees the refreshed store network.
        store = (
            Store.objects.select_for_update(no_key=True)
            .filter(pk=choice.pk, is_active=True)
            .first()
        )
        if store is not None:
            break
        honour_request = False
        store_index_forget(membership.brand_id)
    if store is None:
        membership.assignment_status = Status.UNASSIGNED
        membership.unassigned_reason = (
            Reason.NO_STORE_IN_RANGE if membership.latitude is not None else Reason.NO_LOCATION
        )
        membership.save(update_fields=["assignment_status", "unassigned_reason", "updated_at"])
        membership_bound.send(sender=Membership, membership_ids=[membership.pk])
        return membership
    guide = membership.requested_guide if reason == EventReason.EXPLICIT else None
    if guide is not None and not (guide.is_active and guide.store_id == store.pk):
        guide = None
    if guide is None:
        guide = _guide_lock_least_loaded(store_id=store.pk, brand_id=membership.brand_id)
    _membership_bind(membership, store=store, guide=guide, reason=reason)
    return membership


@transaction.atomic
def membership_reassign(*, membership: Membership, guide: Guide, actor=None) -> Membership:
    """Move a membership to a guide chosen by a person (and to that guide's store)."""
    membership = Membership.objects.select_for_update(of=("self",)).get(pk=membership.pk)
    if not guide.is_active:
        raise ValidationError({"guide": _("This guide is no longer active.")})
    if not store_carries_brand(store=guide.store, brand_id=membership.brand_id):
        raise ValidationError(
            {"guide": _("This guide's store is closed or does not carry the brand.")}
        )
    if membership.guide_id == guide.pk:
        return membership
    was_pending = membership.assignment_status == Status.PENDING
    event = AssignmentEvent(
        membership=membership,
        from_store_id=membership.store_id,
        from_guide_id=membership.guide_id,
        to_store_id=guide.store_id,
        to_guide=guide,
        reason=EventReason.MANUAL,
        actor=actor,
    )
    membership.store_id, membership.guide = guide.store_id, guide
    membership.assignment_status, membership.unassigned_reason = Status.ASSIGNED, ""
    membership.distance_km = (
        None
        if membership.latitude is None
        else haversine_km(
            membership.latitude, membership.longitude, guide.store.latitude, guide.store.longitude
        )
    )
    membership.bound_at = timezone.now()
    membership.save()
    logged_from = timezone.now()
    event.save()
    member_events_record(membership_ids=[membership.pk], since=logged_from)
    if was_pending:
        membership_bound.send(sender=Membership, membership_ids=[membership.pk])
    return membership


# --- Bulk paths ----------------------------------------------------------------------------


def memberships_assign_pending(*, membership_ids: Iterable[int] | None = None) -> int:
    """Assign pending memberships in bulk (all of them, or the given ones); return the count.

    Members who joined through a QR code go through the single path, which
    honours their store and guide. Large sets are written in batches that
    commit on their own (see ``placements_write``).
    """
    pending = Membership.objects.filter(assignment_status=Status.PENDING).order_by(
        "joined_at", "pk"
    )
    if membership_ids is not None:
        pending = pending.filter(pk__in=list(membership_ids))
    explicit_ids = list(pending.filter(requested_store__isnull=False).values_list("pk", flat=True))
    for membership_id in explicit_ids:
        membership_assign(membership_id=membership_id)
    placements = placements_read(pending.filter(requested_store__isnull=True))
    with placements_transaction(placements):
        placements_to_nearest(placements)
        placements_choose_guides(placements)
        assigned = placements_write(placements, reason=EventReason.NEW_MEMBER)
    return assigned + len(explicit_ids)


# A worker assigning a new member takes up to this many of the oldest waiting
# members along: in a campaign's rush one set-based run costs about what a
# single assignment does, and the others' messages then find nothing to do.
ASSIGN_BACKLOG_BATCH = 200
# A coalesced run (settings.TASK_COALESCING) assigns at most this many batches,
# then queues its successor rather than hold a worker.
ASSIGN_WAITING_MAX_BATCHES = 50
# Set while a coalesced run is queued (apps.core.tasking.task_enqueue_coalesced).
ASSIGN_WAITING_KEY = "customers:assign-waiting-queued"


def membership_assign_with_backlog(*, membership_id: int) -> Membership | None:
    """Assign a pending membership together with other members waiting; return it.

    The members taken along are the oldest pending ones, locked with SKIP
    LOCKED so that two workers take disjoint sets and a member another worker
    holds is left to it. No-op once the membership is not pending.
    """
    membership = Membership.objects.filter(pk=membership_id).first()
    if membership is None or membership.assignment_status != Status.PENDING:
        return membership
    if membership.requested_store_id is not None:
        return membership_assign(membership_id=membership_id)
    _memberships_assign_batch(first_id=membership_id)
    return Membership.objects.filter(pk=membership_id).first()


def memberships_waiting_queue() -> None:
    """Queue a run assigning every member waiting; with coalescing, unless one is queued."""
    if settings.TASK_COALESCING:
        task_enqueue_coalesced(task_names.MEMBERSHIPS_ASSIGN_WAITING, key=ASSIGN_WAITING_KEY)
    else:
        task_enqueue(task_names.MEMBERSHIPS_ASSIGN_WAITING)


def memberships_assign_waiting() -> int:
    """Assign every pending member, oldest first, batch by batch; return how many were handled.

    The entry point of a coalesced run: one run serves all the sign-ups
    committed before it started.
    """
    handled = 0
    for _batch in range(ASSIGN_WAITING_MAX_BATCHES):
        count = _memberships_assign_batch()
        if not count:
            return handled
        handled += count
    task_enqueue(task_names.MEMBERSHIPS_ASSIGN_WAITING)
    return handled


@transaction.atomic
def _memberships_assign_batch(*, first_id: int | None = None) -> int:
    """Assign up to ``ASSIGN_BACKLOG_BATCH`` pending members (``first_id`` among them).

    Members are locked with SKIP LOCKED: one another worker holds is left to
    it. Members with a store from a QR code go through ``membership_assign``,
    which honours it. Returns how many were taken.
    """
    waiting = Membership.objects.filter(assignment_status=Status.PENDING).select_for_update(
        skip_locked=True
    )
    batch = []
    if first_id is not None:
        batch = list(waiting.filter(pk=first_id).values_list("pk", flat=True))
        if not batch:
            return 0  # another worker holds it, and assigns it
    batch += (
        waiting.exclude(pk__in=batch)
        .order_by("joined_at", "pk")
        .values_list("pk", flat=True)[: ASSIGN_BACKLOG_BATCH - len(batch)]
    )
    if not batch:
        return 0
    explicit = list(
        Membership.objects.filter(pk__in=batch, requested_store__isnull=False)
        .order_by("joined_at", "pk")
        .values_list("pk", flat=True)
    )
    for membership_id in explicit:
        membership_assign(membership_id=membership_id)
    placements = placements_read(
        Membership.objects.filter(
            pk__in=batch, assignment_status=Status.PENDING, requested_store__isnull=True
        ).order_by("joined_at", "pk")
    )
    if not _placements_to_open_stores(placements):
        # A store closed twice under the batch: the single path, member by
        # member, retries each against the refreshed store network.
        for membership_id in placements.membership_id.tolist():
            membership_assign(membership_id=membership_id)
        return len(batch)
    placements_choose_guides(placements)
    placements_write(placements, reason=EventReason.NEW_MEMBER)
    return len(batch)


def _placements_to_open_stores(placements) -> bool:
    """Send the placements to their nearest stores and lock those; False if one is closed.

    As in ``membership_assign``, the store row locks make a concurrent closing
    wait for this batch (and then move its members), or show a store closed
    behind the cached index, which is then rebuilt for a second attempt.
    """
    for _attempt in range(2):
        placements_to_nearest(placements)
        chosen = sorted(set(placements.to_store[placements.to_store != 0].tolist()))
        open_ids = list(
            Store.objects.select_for_update(no_key=True)
            .filter(pk__in=chosen, is_active=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if open_ids == chosen:
            return True
        for brand_id in set(placements.brand_id.tolist()):
            store_index_forget(int(brand_id))
    return False


def memberships_recompute(*, actor_id: int | None = None) -> int:
    """Re-evaluate every located member who did not pick their store; move those now elsewhere."""
    memberships_assign_pending()
    placements = placements_read(
        Membership.objects.filter(requested_store__isnull=True, latitude__isnull=False).order_by(
            "joined_at", "pk"
        )
    )
    with placements_transaction(placements):
        placements_to_nearest(placements)
        placements_choose_guides(placements)
        return placements_write(placements, reason=EventReason.REBALANCED, actor_id=actor_id)


@transaction.atomic
def store_members_relocate(*, store_id: int, actor_id: int | None = None) -> int:
    """Move the members of a closed store to their next nearest eligible store.

    Members who gave no location are placed by the closed store's position.
    """
    store = Store.objects.filter(pk=store_id).first()
    if store is None or store.is_active:
        return 0
    placements = placements_read(
        Membership.objects.filter(store_id=store_id).order_by("joined_at", "pk")
    )
    unknown = np.isnan(placements.latitude)
    placements.latitude[unknown] = store.latitude
    placements.longitude[unknown] = store.longitude
    placements_to_nearest(placements)
    placements_choose_guides(placements)
    return placements_write(placements, reason=EventReason.STORE_CLOSED, actor_id=actor_id)


@transaction.atomic
def guide_members_handover(*, guide_id: int, actor_id: int | None = None) -> int:
    """Hand a departed guide's members to the store's remaining guides, least-loaded first."""
    guide = Guide.objects.filter(pk=guide_id).first()
    if guide is None:
        return 0
    members = Membership.objects.filter(guide_id=guide_id).order_by("joined_at", "pk")
    if guide.is_active:
        # Still working: only members bound to a store the guide moved away from.
        members = members.exclude(store_id=guide.store_id)
    placements = placements_read(members)
    placements_choose_guides(placements, exclude_guide_ids=[guide_id])
    return placements_write(placements, reason=EventReason.GUIDE_LEFT, actor_id=actor_id)


@transaction.atomic
def store_unguided_members_assign(*, store_id: int) -> int:
    """Give the store's members who have no guide yet one of its (now available) guides."""
    placements = placements_read(
        Membership.objects.filter(
            store_id=store_id, guide__isnull=True, assignment_status=Status.ASSIGNED
        ).order_by("joined_at", "pk")
    )
    placements_choose_guides(placements)
    return placements_write(placements, reason=EventReason.REBALANCED)


def pending_memberships_stale(*, older_than_seconds: int, limit: int) -> list[int]:
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    return list(
        Membership.objects.filter(assignment_status=Status.PENDING, joined_at__lt=cutoff)
        .order_by("joined_at")
        .values_list("pk", flat=True)[:limit]
    )


# --- Consent and profile ---------------------------------------------------------------------


@transaction.atomic
def membership_consent_record(
    *,
    membership: Membership,
    notice_version: str,
    channel: str,
    notice: PrivacyNotice | None = None,
    captured_by=None,
    included_location: bool = False,
    consented_at: datetime | None = None,
) -> MembershipConsent:
    """Record that the member consented to the notice ``notice_version``; return the consent.

    Consenting again to the same version changes nothing; consenting to a new
    version ends the standing consent (stamped, kept) and records the new one.
    """
    purpose = MembershipConsent.Purpose.MEMBERSHIP
    standing = (
        MembershipConsent.objects.select_for_update()
        .filter(membership=membership, purpose=purpose, withdrawn_at__isnull=True)
        .first()
    )
    now = consented_at or timezone.now()
    if standing is not None:
        if standing.notice_version == notice_version:
            return standing
        standing.withdrawn_at = now
        standing.save(update_fields=["withdrawn_at"])
    consent = MembershipConsent(
        membership=membership,
        purpose=purpose,
        notice=notice,
        notice_version=notice_version,
        channel=channel,
        captured_by=captured_by,
        included_location=included_location,
        consented_at=now,
    )
    consent.full_clean(exclude=["membership", "notice", "captured_by"], validate_constraints=False)
    consent.save()
    return consent


def customer_birthday_set(*, customer: Customer, birthday) -> Customer:
    """Store the birthday a customer gave (for birthday follow-ups)."""
    if birthday is not None and customer.birthday != birthday:
        customer.birthday = birthday
        customer.save(update_fields=["birthday"])
    return customer
