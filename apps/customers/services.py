"""Writes for members: joining a brand and binding to a store and a guide."""

import dataclasses
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from apps.core.api import FAILED_FIX_MESSAGE
from apps.core.batches import BATCH_CHUNK_ITEMS, ItemOutcome, Outcome, validation_errors_of
from apps.core.geo import haversine_km, is_failed_fix
from apps.core.phones import phone_normalise
from apps.core.scoping import mask_phone
from apps.core.tasking import task_enqueue, task_enqueue_coalesced
from apps.customers import task_names
from apps.customers.events import (
    membership_bound,
    membership_consent_withdrawn,
    membership_erased,
)
from apps.customers.models import (
    AssignmentEvent,
    Customer,
    ErasedPhone,
    Membership,
    MembershipConsent,
    PersonalDataAccess,
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
    brand_privacy_policy,
    guide_load_subquery,
    privacy_notice_published,
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
    *, brand: Brand, store: Store | None, guide: Guide | None, carried: set[tuple[int, int]]
) -> Store | None:
    """Check a QR code's store and guide; return the store (the guide's, if only it was given).

    ``carried`` holds the (store id, brand id) pairs of the stores in question.
    """
    field = "store"
    if guide is not None:
        if store is not None and guide.store_id != store.pk:
            raise ValidationError({"guide": _("This guide does not work in the given store.")})
        if not guide.is_active:
            raise ValidationError({"guide": _("This guide is no longer active.")})
        if store is None:
            store, field = guide.store, "guide"
    if store is not None and not (store.is_active and (store.pk, brand.pk) in carried):
        raise ValidationError({field: _("This store is closed or does not carry the brand.")})
    return store


@dataclass(frozen=True)
class JoinInput:
    """One sign-up as ``member_join`` takes it."""

    brand: Brand
    phone: str
    source: str
    name: str = ""
    latitude: float | None = None
    longitude: float | None = None
    store: Store | None = None
    guide: Guide | None = None
    joined_at: datetime | None = None
    # The published notice the member accepted, written with a new membership.
    consent: PrivacyNotice | None = None
    captured_by: Any = None


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
    a worker, and the binding then dates from joining too. A sign-up is a
    batch of one (``members_join``); a refused one raises ValidationError.
    """
    (outcome,) = members_join(
        joins=[
            JoinInput(
                brand=brand, phone=phone, name=name, source=source, latitude=latitude,
                longitude=longitude, store=store, guide=guide, joined_at=joined_at,
            )
        ]
    )  # fmt: skip
    if outcome.status == Outcome.INVALID:
        raise ValidationError(outcome.errors)
    return JoinResult(outcome.obj, created=outcome.status == Outcome.CREATED)


def members_join(*, joins: list[JoinInput]) -> list[ItemOutcome]:
    """Sign many members up, each as ``member_join`` does; return each one's outcome, in order.

    A phone already a member of the brand (or earlier in the list) is
    ``replayed`` with the existing membership; a refused sign-up is
    ``invalid`` with field messages and holds back no other. The stores,
    brands and memberships in question are read for the whole list at once;
    the new members are written ``BATCH_CHUNK_ITEMS`` a transaction, QR-code
    members bound in it, and the others' assignment is queued once.
    """
    phones: list[str | ItemOutcome] = []
    for join in joins:
        try:
            phones.append(_join_check(join))
        except ValidationError as exc:
            phones.append(ItemOutcome(Outcome.INVALID, errors=validation_errors_of(exc)))
    valid_phones = {phone for phone in phones if isinstance(phone, str)}
    brand_ids = {join.brand.pk for join in joins}
    stored = {
        (membership.customer.phone, membership.brand_id): membership
        for membership in Membership.objects.filter(
            customer__phone__in=valid_phones, brand_id__in=brand_ids
        ).select_related("customer")
    }
    stores = _stores_of_joins(joins)
    carried = set(
        Store.brands.through.objects.filter(
            store_id__in=stores, brand_id__in=brand_ids
        ).values_list("store_id", "brand_id")
    )
    erased = _erased_phone_keys(
        {
            (phone, join.brand.pk)
            for join, phone in zip(joins, phones, strict=True)
            if isinstance(phone, str)
        }
        - set(stored)
    )
    outcomes: list[ItemOutcome] = []
    accepted: dict[tuple[str, int], ItemOutcome] = {}
    for join, phone in zip(joins, phones, strict=True):
        if isinstance(phone, ItemOutcome):
            outcomes.append(phone)
            continue
        key = (phone, join.brand.pk)
        if key in stored:
            outcomes.append(ItemOutcome(Outcome.REPLAYED, obj=stored[key]))
            continue
        if key in accepted:
            outcomes.append(accepted[key])  # the same outcome object: settled when it is
            continue
        try:
            store = _explicit_choice_validate(
                brand=join.brand,
                store=join.store,
                guide=join.guide and _with_store(join.guide, stores),
                carried=carried,
            )
            membership = _membership_prepare(join, phone, store, rejoined=key in erased)
        except ValidationError as exc:
            outcomes.append(ItemOutcome(Outcome.INVALID, errors=validation_errors_of(exc)))
            continue
        accepted[key] = ItemOutcome(Outcome.CREATED, obj=membership)
        outcomes.append(accepted[key])
    new = list(accepted.values())
    pending = []
    for start in range(0, len(new), BATCH_CHUNK_ITEMS):
        pending += _members_write_chunk(new[start : start + BATCH_CHUNK_ITEMS])
    # A repeat of a sign-up later in the list answers as a replay of the first.
    seen = set()
    for index, outcome in enumerate(outcomes):
        if outcome.status == Outcome.CREATED:
            if id(outcome) in seen:
                outcomes[index] = ItemOutcome(Outcome.REPLAYED, obj=outcome.obj)
            seen.add(id(outcome))
    if len(pending) == 1 and not settings.TASK_COALESCING:
        task_enqueue(task_names.MEMBERSHIP_ASSIGN_WITH_BACKLOG, pending[0])
    elif pending:
        memberships_waiting_queue()
    return outcomes


def _join_check(join: JoinInput) -> str:
    """Check what a sign-up says of itself; return its phone, normalised."""
    try:
        phone = phone_normalise(join.phone)
    except ValidationError as exc:
        raise ValidationError({"phone": exc.messages}) from exc
    if (join.latitude is None) != (join.longitude is None):
        raise ValidationError({"latitude": _("Give latitude and longitude together.")})
    if join.latitude is not None and is_failed_fix(join.latitude, join.longitude):
        raise ValidationError({"latitude": FAILED_FIX_MESSAGE})
    return phone


def _stores_of_joins(joins: list[JoinInput]) -> dict[int, Store]:
    """Return the stores the sign-ups name or whose guides they name, by id (one query)."""
    stores = {join.store.pk: join.store for join in joins if join.store is not None}
    missing = {join.guide.store_id for join in joins if join.guide is not None} - set(stores)
    if missing:
        stores.update(Store.objects.in_bulk(missing))
    return stores


def _with_store(guide: Guide, stores: dict[int, Store]) -> Guide:
    guide.store = stores[guide.store_id]
    return guide


def _erased_phone_keys(keys: set[tuple[str, int]]) -> set[tuple[str, int]]:
    """Return which (phone, brand id) pairs the brand recognises as erased members (one query)."""
    if not keys:
        return set()
    by_hash = {
        erased_phone_hash(brand_id=brand_id, phone=phone): (phone, brand_id)
        for phone, brand_id in keys
    }
    return {
        by_hash[phone_hash]
        for phone_hash in ErasedPhone.objects.filter(
            brand_id__in={brand_id for _phone, brand_id in keys}, phone_hash__in=by_hash
        ).values_list("phone_hash", flat=True)
    }


def _membership_prepare(
    join: JoinInput, phone: str, store: Store | None, *, rejoined: bool = False
) -> Membership:
    membership = Membership(
        rejoined_after_erasure=rejoined,
        brand=join.brand,
        latitude=join.latitude,
        longitude=join.longitude,
        requested_store=store,
        requested_guide=join.guide,
        source=join.source,
        joined_at=join.joined_at or timezone.now(),
    )
    # Uniqueness is left to the database: the race is caught when writing.
    # The customer, brand, store and guide were just read or are written
    # with it: checking that they exist would cost a query each.
    membership.full_clean(
        exclude=["customer", "brand", "requested_store", "requested_guide"],
        validate_unique=False,
        validate_constraints=False,
    )
    membership.customer_phone, membership.customer_name = phone, join.name
    membership.join_input = join
    return membership


# A chunk whose insert lost a race (a concurrent sign-up of the same phone)
# is read again and written again at most this many times.
MEMBERS_WRITE_ATTEMPTS = 3


def _members_write_chunk(chunk: list[ItemOutcome]) -> list[int]:
    """Write a chunk of new members in one transaction; return the ids still to be assigned.

    Customers are found or made by phone; a QR-code member whose guide is
    named is bound at once (``_membership_bind_fields``) under the store's
    row lock. A phone another request made a member meanwhile turns that
    item into a replay, and the rest is written again.
    """
    for attempt in range(MEMBERS_WRITE_ATTEMPTS):
        try:
            with transaction.atomic():
                return _members_write(chunk)
        except IntegrityError:
            if attempt == MEMBERS_WRITE_ATTEMPTS - 1:
                raise
        stored = {
            (membership.customer.phone, membership.brand_id): membership
            for membership in Membership.objects.filter(
                customer__phone__in={outcome.obj.customer_phone for outcome in chunk},
                brand_id__in={outcome.obj.brand_id for outcome in chunk},
            ).select_related("customer")
        }
        remaining = []
        for outcome in chunk:
            membership = outcome.obj
            winner = stored.get((membership.customer_phone, membership.brand_id))
            if winner is None:
                _membership_unwritten(membership)
                remaining.append(outcome)
            else:
                outcome.status, outcome.obj = Outcome.REPLAYED, winner
        chunk = remaining
    return []


def _membership_unwritten(membership: Membership) -> None:
    """Put back a membership whose insert was rolled back as it was before the write."""
    membership.pk = membership.customer_id = membership.store_id = membership.guide_id = None
    membership.distance_km = membership.bound_at = None
    membership.assignment_status, membership.unassigned_reason = Status.PENDING, ""


def _members_write(chunk: list[ItemOutcome]) -> list[int]:
    memberships = [outcome.obj for outcome in chunk]
    phones = {membership.customer_phone for membership in memberships}
    customers = Customer.objects.in_bulk(phones, field_name="phone")
    names = {}
    for membership in memberships:
        names.setdefault(membership.customer_phone, membership.customer_name)
    for customer in Customer.objects.bulk_create(
        Customer(phone=phone, name=names[phone]) for phone in sorted(phones - set(customers))
    ):
        customers[customer.phone] = customer
    to_bind = [m for m in memberships if m.requested_guide is not None]
    open_stores = set(
        Store.objects.select_for_update(no_key=True)
        .filter(pk__in={m.requested_store.pk for m in to_bind}, is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    ) if to_bind else set()  # fmt: skip
    bound = []
    for membership in memberships:
        membership.customer = customers[membership.customer_phone]
        if membership.requested_guide is not None and membership.requested_store.pk in open_stores:
            # Closed under the sign-up otherwise: the worker finds the member a store.
            _membership_bind_fields(
                membership, store=membership.requested_store, guide=membership.requested_guide
            )
            bound.append(membership)
    Membership.objects.bulk_create(memberships)
    _consents_write([m for m in memberships if m.join_input.consent is not None])
    if bound:
        logged_from = timezone.now()
        AssignmentEvent.objects.bulk_create(
            AssignmentEvent(membership=m, to_store=m.store, to_guide=m.guide,
                            reason=EventReason.EXPLICIT)
            for m in bound
        )  # fmt: skip
        member_events_record(membership_ids=[m.pk for m in bound], since=logged_from)
        membership_bound.send(sender=Membership, membership_ids=[m.pk for m in bound])
    return [m.pk for m in memberships if m.assignment_status == Status.PENDING]


def _consents_write(memberships: list[Membership]) -> None:
    """Record new members' consents, in their chunk's transaction (none stands yet)."""
    MembershipConsent.objects.bulk_create(
        MembershipConsent(
            membership=membership,
            purpose=MembershipConsent.Purpose.MEMBERSHIP,
            notice=membership.join_input.consent,
            notice_version=membership.join_input.consent.version,
            channel=CONSENT_CHANNEL_OF_SOURCE[membership.source],
            captured_by=membership.join_input.captured_by,
            included_location=membership.latitude is not None,
            consented_at=membership.joined_at,
        )
        for membership in memberships
    )


def _membership_bind_fields(membership: Membership, *, store: Store, guide: Guide | None) -> None:
    """Set a pending membership's binding to ``store`` and ``guide``, dated from joining.

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


def _membership_bind(
    membership: Membership, *, store: Store, guide: Guide | None, reason: str
) -> None:
    """Bind a pending membership to ``store`` and ``guide`` (locked by the caller) and say so."""
    _membership_bind_fields(membership, store=store, guide=guide)
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
    if membership.consent_withdrawn_at is not None:
        # Consenting again after a withdrawal puts the member back in use.
        Membership.objects.filter(pk=membership.pk).update(consent_withdrawn_at=None)
        membership.consent_withdrawn_at = None
    return consent


def customer_birthday_set(*, customer: Customer, birthday) -> Customer:
    """Store the birthday a customer gave (for birthday follow-ups)."""
    if birthday is not None and customer.birthday != birthday:
        customer.birthday = birthday
        customer.save(update_fields=["birthday"])
    return customer


# --- Personal information (PIPL) ---------------------------------------------------------------

# The consent channel an API sign-up's source implies.
CONSENT_CHANNEL_OF_SOURCE = {
    Membership.Source.MINI_PROGRAM: MembershipConsent.Channel.MINI_PROGRAM,
    Membership.Source.H5: MembershipConsent.Channel.SIGNUP_PAGE,
    Membership.Source.STORE_QR: MembershipConsent.Channel.SIGNUP_PAGE,
    Membership.Source.POS: MembershipConsent.Channel.POS,
    Membership.Source.IMPORT: MembershipConsent.Channel.IMPORT,
}
ERASED_PHONE_SALT = "apps.customers.erased-phone"
_PHONE_IN_TEXT = re.compile(r"1[3-9][0-9]{9}")


def consent_notice_check(*, brand: Brand, consent_notice: str) -> PrivacyNotice | None:
    """Return the brand's published notice a sign-up names, or None where it names none.

    Refused with a ValidationError naming ``consent_notice`` where the brand
    requires consent and none is stated, or where the version is not one the
    brand published.
    """
    if consent_notice:
        notice = privacy_notice_published(brand_id=brand.pk, version=consent_notice)
        if notice is None:
            raise ValidationError(
                {
                    "consent_notice": _(
                        "The brand has published no privacy notice with version %(version)s."
                    )
                    % {"version": consent_notice}
                }
            )
        return notice
    if brand_privacy_policy(brand_id=brand.pk).consent_required:
        raise ValidationError(
            {
                "consent_notice": _(
                    "This brand requires the version of the privacy notice the member accepted."
                )
            }
        )
    return None


def members_join_with_consent(
    *, joins: list[JoinInput], consent_notices: list[str], captured_by=None
) -> list[ItemOutcome]:
    """Sign many members up as ``members_join`` does, each with its consent as one sign-up's.

    An item whose consent the brand refuses is ``invalid`` (``consent_notice``);
    a new member's consent is written in its chunk's transaction, a returning
    member's recorded as ``member_join_with_consent`` records it.
    """
    outcomes: list[ItemOutcome | None] = []
    to_join: list[tuple[int, JoinInput, PrivacyNotice | None]] = []
    checked: dict[tuple[int, str], PrivacyNotice | ValidationError | None] = {}
    for join, consent_notice in zip(joins, consent_notices, strict=True):
        key = (join.brand.pk, consent_notice)
        if key not in checked:  # a batch names few brands and versions: each is read once
            try:
                checked[key] = consent_notice_check(brand=join.brand, consent_notice=consent_notice)
            except ValidationError as exc:
                checked[key] = exc
        notice = checked[key]
        if isinstance(notice, ValidationError):
            outcomes.append(ItemOutcome(Outcome.INVALID, errors=validation_errors_of(notice)))
            continue
        if notice is not None:
            join = dataclasses.replace(join, consent=notice, captured_by=captured_by)
        outcomes.append(None)
        to_join.append((len(outcomes) - 1, join, notice))
    joined = members_join(joins=[join for _index, join, _notice in to_join])
    for (index, join, notice), outcome in zip(to_join, joined, strict=True):
        outcomes[index] = outcome
        if notice is not None and outcome.status == Outcome.REPLAYED:
            membership_consent_record(
                membership=outcome.obj, notice=notice, notice_version=notice.version,
                channel=CONSENT_CHANNEL_OF_SOURCE[join.source], captured_by=captured_by,
                included_location=join.latitude is not None,
            )  # fmt: skip
    return outcomes


def member_join_with_consent(
    *, consent_notice: str = "", captured_by=None, consent_channel: str = "", **join
) -> JoinResult:
    """Join as ``member_join`` does and record consent to the brand's notice ``consent_notice``.

    Refused with a ValidationError naming ``consent_notice`` where the brand
    requires consent and none is stated, or where the version is not one the
    brand published. The join and its consent are written together or not at all.
    """
    notice = consent_notice_check(brand=join["brand"], consent_notice=consent_notice)
    if notice is None:
        return member_join(**join)
    with transaction.atomic():
        result = member_join(**join)
        membership_consent_record(
            membership=result.membership,
            notice=notice,
            notice_version=notice.version,
            channel=consent_channel or CONSENT_CHANNEL_OF_SOURCE[join["source"]],
            captured_by=captured_by,
            included_location=join.get("latitude") is not None,
        )
    return result


@transaction.atomic
def membership_consent_withdraw(*, membership: Membership, actor=None) -> Membership:
    """Withdraw the member's consent: marketing use stops now; a no-op when already withdrawn.

    The consent rows are stamped, never deleted: they prove what the member
    agreed to and when they stopped. The apps above stop their own use on
    ``membership_consent_withdrawn`` (open follow-ups are skipped).
    """
    membership = Membership.objects.select_for_update(of=("self",)).get(pk=membership.pk)
    if membership.consent_withdrawn_at is not None:
        return membership
    now = timezone.now()
    MembershipConsent.objects.filter(membership=membership, withdrawn_at__isnull=True).update(
        withdrawn_at=now
    )
    membership.consent_withdrawn_at, membership.consent_withdrawn_by = now, actor
    membership.save(update_fields=["consent_withdrawn_at", "consent_withdrawn_by", "updated_at"])
    membership_consent_withdrawn.send(sender=Membership, membership_id=membership.pk)
    return membership


def erased_phone_hash(*, brand_id: int, phone: str) -> str:
    """Return the keyed hash by which a brand recognises an erased member joining again."""
    return salted_hmac(ERASED_PHONE_SALT, f"{brand_id}:{phone}", algorithm="sha256").hexdigest()


def membership_pseudonym(membership_id: int) -> str:
    """Return the pseudonym that replaces an erased member's phone (``x`` and 10 digits)."""
    return f"x{membership_id:010d}"


@transaction.atomic
def membership_erase(*, membership: Membership, actor=None) -> Membership:
    """Erase the member's personal information held for the membership's brand.

    The membership moves to a customer of its own whose phone is a pseudonym
    and which holds no name, birthday or location; where it was the
    customer's last membership, the customer itself is scrubbed in place.
    Orders, refunds, commission entries and settlements keep every amount:
    the apps above replace the phone by the pseudonym on their rows and drop
    notes and tags (``membership_erased``). A no-op once erased.
    """
    membership = Membership.objects.select_for_update(of=("self",)).filter(pk=membership.pk).first()
    if membership is None or membership.erased_at is not None:
        return membership
    customer = Customer.objects.select_for_update().get(pk=membership.customer_id)
    phone, now = customer.phone, timezone.now()
    pseudonym = membership_pseudonym(membership.pk)
    if brand_privacy_policy(brand_id=membership.brand_id).recognise_rejoins:
        ErasedPhone.objects.get_or_create(
            brand_id=membership.brand_id,
            phone_hash=erased_phone_hash(brand_id=membership.brand_id, phone=phone),
            defaults={"erased_at": now},
        )
    held_elsewhere = (
        Membership.objects.filter(customer=customer, erased_at__isnull=True)
        .exclude(pk=membership.pk)
        .exists()
    )
    if held_elsewhere:
        holder = Customer.objects.create(phone=pseudonym, erased_at=now)
    else:
        customer.phone, customer.name, customer.birthday = pseudonym, "", None
        customer.erased_at = now
        customer.save(update_fields=["phone", "name", "birthday", "erased_at"])
        holder = customer
    membership.customer = holder
    membership.latitude = membership.longitude = membership.distance_km = None
    membership.erased_at, membership.erased_by = now, actor
    membership.consent_withdrawn_at = membership.consent_withdrawn_at or now
    membership.save()
    MembershipConsent.objects.filter(membership=membership, withdrawn_at__isnull=True).update(
        withdrawn_at=now
    )
    _admin_log_scrub(membership, previous_customer=customer)
    membership_erased.send(
        sender=Membership,
        membership_id=membership.pk,
        brand_id=membership.brand_id,
        phone=phone,
        pseudonym=pseudonym,
        customer_erased=not held_elsewhere,
    )
    logger.info("membership %s erased (customer erased: %s)", membership.pk, not held_elsewhere)
    return membership


def _admin_log_scrub(membership: Membership, *, previous_customer: Customer) -> None:
    """Rewrite the admin's change log titles of the erased rows, which carried the name."""
    titles = {
        (Membership, membership.pk): str(membership)[:200],
        (Customer, previous_customer.pk): str(previous_customer)[:200],
    }
    for (model, pk), title in titles.items():
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(model), object_id=str(pk)
        ).update(object_repr=title)


def _text_masked(value):
    """Return ``value`` with every mobile number in its text masked (for filter records)."""
    if isinstance(value, str):
        return _PHONE_IN_TEXT.sub(lambda match: mask_phone(match.group()), value)
    if isinstance(value, list | tuple):
        return [_text_masked(item) for item in value]
    return value


def personal_data_access_record(
    *,
    actor,
    kind: str,
    where: str,
    customer_ids: Iterable[int],
    filters: dict | None = None,
    row_count: int | None = None,
) -> PersonalDataAccess | None:
    """Record that ``actor`` saw the full phone or birthday of these customers; None for none.

    ``filters`` (the query that chose the rows) is kept with any phone number
    in it masked: the log must not become one more copy of the numbers.
    """
    ids = sorted(set(customer_ids))
    if not ids:
        return None
    return PersonalDataAccess.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=actor.get_username() if getattr(actor, "pk", None) else "",
        kind=kind,
        where=where[:200],
        customer_ids=ids,
        row_count=len(ids) if row_count is None else row_count,
        filters={str(key): _text_masked(value) for key, value in (filters or {}).items()},
    )
