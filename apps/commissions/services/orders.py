"""Writes of paid orders and refunds: accepted once, attributed to a guide, queued for entries."""

import datetime as dt
import hashlib
import json
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.commissions import task_names
from apps.commissions.calculations import Binding, binding_credit
from apps.commissions.models import (
    DEFAULT_TILL_GRACE_MINUTES,
    BrandCommissionPolicy,
    Order,
    OrderLine,
    Refund,
    document_number_validator,
)
from apps.commissions.outbound_events import orders_attributed_record
from apps.core.batches import BATCH_CHUNK_ITEMS, ItemOutcome, Outcome, validation_errors_of
from apps.core.money import MIN_AMOUNT, quantize_money
from apps.core.phones import phone_normalise
from apps.core.tasking import task_enqueue, task_enqueue_coalesced
from apps.customers.models import Membership
from apps.guides.models import Guide
from apps.stores.models import Brand, Store

# Set while a coalesced run of new orders is queued (``task_enqueue_coalesced``).
ORDERS_WAITING_KEY = "commissions:entries-waiting-queued"
# A payment or refund time may run this far ahead of the server's clock (the
# till's clock drifts); anything later is a mistake, not a sale.
CLOCK_AHEAD_TOLERANCE = dt.timedelta(minutes=10)


class DuplicateWithDifferentContent(Exception):
    """The business key exists with a different body."""


def business_date_of(moment: dt.datetime) -> dt.date:
    """Return the local calendar date of ``moment`` in the project's time zone."""
    return moment.astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE)).date()


def request_fingerprint(payload: dict) -> str:
    """Return the fingerprint of a request's content, to tell a replay from a conflict."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def same_or_conflict(existing, fingerprint: str):
    """Return ``existing`` if it was written from the same content; else raise a conflict."""
    if existing.request_hash != fingerprint:
        raise DuplicateWithDifferentContent(str(existing))
    return existing


@dataclass(frozen=True)
class LineInput:
    sku: str
    quantity: int
    amount: Decimal
    category: str = ""


def order_attribute(
    *, brand: Brand, guide: Guide | None, member_phone: str, paid_at: dt.datetime
) -> tuple[Guide | None, str]:
    """Decide which guide earns on an order, and why (``Order.AttributionReason``).

    The guide named on the order, else the member's bound guide (the brand's
    policy may swap the two), as ``calculations.binding_credit`` rules from
    the membership's facts. While the membership is pending no guide is
    credited yet: the order is attributed again when the binding lands
    (``order_attribution_refresh``).
    """
    facts = AttributionFacts.load(orders=[(brand.pk, guide, member_phone)])
    return facts.attribute(brand=brand, guide=guide, member_phone=member_phone, paid_at=paid_at)


@dataclass
class AttributionFacts:
    """The brand policies and memberships that attribution reads, loaded once for many orders."""

    policies: dict[int, BrandCommissionPolicy]
    memberships: dict[tuple[str, int], Membership]

    @classmethod
    def load(cls, *, orders: list[tuple[int, Guide | None, str]]) -> "AttributionFacts":
        """Load what attributing ``orders`` (brand id, named guide, member phone) reads.

        A membership is read only where it can matter: no guide is named, or
        the brand's policy puts the bound guide first.
        """
        brand_ids = {brand_id for brand_id, _guide, _phone in orders}
        policies = {
            policy.brand_id: policy
            for policy in BrandCommissionPolicy.objects.filter(brand_id__in=brand_ids)
        }
        phones = {
            phone
            for brand_id, guide, phone in orders
            if phone and (guide is None or _bound_guide_first(policies.get(brand_id)))
        }
        memberships = {}
        if phones:
            rows = Membership.objects.filter(
                customer__phone__in=phones, brand_id__in=brand_ids
            ).select_related("guide", "customer")
            memberships = {(row.customer.phone, row.brand_id): row for row in rows}
        return cls(policies=policies, memberships=memberships)

    def attribute(
        self, *, brand: Brand, guide: Guide | None, member_phone: str, paid_at: dt.datetime
    ) -> tuple[Guide | None, str]:
        """Attribute one order from the loaded facts (see ``order_attribute``)."""
        reason = Order.AttributionReason
        policy = self.policies.get(brand.pk)
        if guide is not None and not _bound_guide_first(policy):
            return guide, reason.ORDER_GUIDE
        membership = self.memberships.get((member_phone, brand.pk)) if member_phone else None
        credit = binding_credit(
            _binding_of(membership),
            paid_at=paid_at,
            binding_days=policy.binding_days if policy else None,
            till_grace=dt.timedelta(
                minutes=policy.till_grace_minutes if policy else DEFAULT_TILL_GRACE_MINUTES
            ),
        )
        if credit in (reason.BOUND_GUIDE, reason.BOUND_AT_TILL):
            return membership.guide, credit
        if guide is not None and credit != reason.PENDING_MEMBERSHIP:
            return guide, reason.ORDER_GUIDE
        return None, credit


def _bound_guide_first(policy: BrandCommissionPolicy | None) -> bool:
    return bool(policy and policy.attribution_policy == policy.AttributionPolicy.BOUND_GUIDE_FIRST)


def _binding_of(membership: Membership | None) -> Binding | None:
    if membership is None:
        return None
    return Binding(
        status=membership.assignment_status,
        has_guide=membership.guide_id is not None,
        joined_at=membership.joined_at,
        bound_at=membership.bound_at,
    )


def document_number_check(number: str, *, field: str) -> None:
    """Refuse a number its URL could not carry (``document_number_validator``), naming ``field``."""
    try:
        document_number_validator(number)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc


def _not_ahead_of_the_clock(moment: dt.datetime, *, field: str) -> None:
    if moment > timezone.now() + CLOCK_AHEAD_TOLERANCE:
        raise ValidationError(
            {
                field: _("This time is more than %(minutes)s minutes ahead of the server's clock.")
                % {"minutes": int(CLOCK_AHEAD_TOLERANCE.total_seconds() // 60)}
            }
        )


def _queue_new_orders(order_ids: list[int]) -> None:
    """Queue the entry work of newly accepted orders: one message, however many orders.

    A run of ``orders_waiting_write`` serves every order without entries from
    the lowest id on; a single order without coalescing keeps its own message.
    """
    if not order_ids:
        return
    if settings.TASK_COALESCING:
        task_enqueue_coalesced(
            task_names.ORDERS_WAITING_WRITE, key=ORDERS_WAITING_KEY, args=(min(order_ids),)
        )
    elif len(order_ids) == 1:
        task_enqueue(task_names.ORDER_ENTRIES_WRITE, order_ids[0])
    else:
        task_enqueue(task_names.ORDERS_WAITING_WRITE, min(order_ids))


@dataclass(frozen=True)
class OrderInput:
    """One paid order as an integration sends it (codes already resolved to rows)."""

    order_no: str
    brand: Brand
    store: Store
    amount: Decimal
    paid_at: dt.datetime
    guide: Guide | None = None
    member_phone: str = ""
    lines: tuple[LineInput, ...] = ()


def order_ingest(
    *,
    order_no: str,
    brand: Brand,
    store: Store,
    amount: Decimal,
    paid_at: dt.datetime,
    guide: Guide | None = None,
    member_phone: str = "",
    lines: list[LineInput] | None = None,
) -> tuple[Order, bool]:
    """Accept a paid order once; return it and whether it is new.

    The same ``order_no`` with the same content returns the stored order;
    with different content raises ``DuplicateWithDifferentContent``; a
    refused order raises ``ValidationError`` naming the fields. Entries are
    written by a task queued when the transaction commits. One order is a
    batch of one (``orders_ingest``).
    """
    (outcome,) = orders_ingest(
        orders=[
            OrderInput(
                order_no=order_no, brand=brand, store=store, amount=amount, paid_at=paid_at,
                guide=guide, member_phone=member_phone, lines=tuple(lines or ()),
            )
        ]
    )  # fmt: skip
    return _single_result(outcome)


def _single_result(outcome: ItemOutcome):
    if outcome.status == Outcome.INVALID:
        raise ValidationError(outcome.errors)
    if outcome.status == Outcome.CONFLICT:
        raise DuplicateWithDifferentContent(str(outcome.obj))
    return outcome.obj, outcome.status == Outcome.CREATED


def _order_fingerprint(item: OrderInput, member_phone: str) -> str:
    return request_fingerprint(
        {
            "brand": item.brand.code,
            "store": item.store.code,
            "guide": item.guide.employee_no if item.guide else None,
            "member_phone": member_phone,
            "amount": str(quantize_money(item.amount)),
            "paid_at": item.paid_at.astimezone(dt.UTC).isoformat(),
            "lines": [
                [line.sku, line.category, line.quantity, str(quantize_money(line.amount))]
                for line in item.lines
            ],
        }
    )


def _replay_or_conflict(existing, fingerprint: str) -> ItemOutcome:
    status = Outcome.REPLAYED if existing.request_hash == fingerprint else Outcome.CONFLICT
    return ItemOutcome(status, obj=existing)


def orders_ingest(*, orders: list[OrderInput]) -> list[ItemOutcome]:
    """Accept many paid orders, each once; return each one's outcome, in order.

    Each order is checked and attributed exactly as ``order_ingest`` does, from
    facts read for the whole list in a few statements. An order whose number
    is stored (or comes earlier in the list) is ``replayed`` when its content
    is the same, else a ``conflict``; a refused one is ``invalid`` with field
    messages and holds back no other. The new ones are written
    ``BATCH_CHUNK_ITEMS`` a transaction, and their entry work is queued once.
    """
    phones, fingerprints = [], []
    for item in orders:
        try:
            phone = phone_normalise(item.member_phone) if item.member_phone else ""
        except ValidationError as exc:
            phone = None
            fingerprints.append(ItemOutcome(Outcome.INVALID, errors={"member_phone": exc.messages}))
        else:
            fingerprints.append(_order_fingerprint(item, phone))
        phones.append(phone)
    stored = Order.objects.in_bulk([item.order_no for item in orders], field_name="order_no")
    carried = set(
        Store.brands.through.objects.filter(
            store_id__in={item.store.pk for item in orders},
            brand_id__in={item.brand.pk for item in orders},
        ).values_list("store_id", "brand_id")
    )
    facts = AttributionFacts.load(
        orders=[
            (item.brand.pk, item.guide, phone)
            for item, phone in zip(orders, phones, strict=True)
            if phone is not None and item.order_no not in stored
        ]
    )
    outcomes: list[ItemOutcome] = []
    accepted: dict[str, Order] = {}
    new: list[tuple[ItemOutcome, tuple[LineInput, ...]]] = []
    for item, phone, fingerprint in zip(orders, phones, fingerprints, strict=True):
        if isinstance(fingerprint, ItemOutcome):
            outcomes.append(fingerprint)
            continue
        earlier = stored.get(item.order_no) or accepted.get(item.order_no)
        if earlier is not None:
            outcomes.append(_replay_or_conflict(earlier, fingerprint))
            continue
        try:
            order = _order_prepare(item, phone, fingerprint, carried=carried, facts=facts)
        except ValidationError as exc:
            outcomes.append(ItemOutcome(Outcome.INVALID, errors=validation_errors_of(exc)))
            continue
        accepted[item.order_no] = order
        outcomes.append(ItemOutcome(Outcome.CREATED, obj=order))
        new.append((outcomes[-1], item.lines))
    for start in range(0, len(new), BATCH_CHUNK_ITEMS):
        _orders_write_chunk(new[start : start + BATCH_CHUNK_ITEMS])
    # A repeat, later in the list, of an order whose number another request
    # wrote first answers from the stored order.
    unsaved = {
        index: outcome.obj.order_no
        for index, outcome in enumerate(outcomes)
        if outcome.obj is not None and outcome.obj.pk is None
    }
    if unsaved:
        stored = Order.objects.in_bulk(list(unsaved.values()), field_name="order_no")
        for index, order_no in unsaved.items():
            outcomes[index] = _replay_or_conflict(stored[order_no], fingerprints[index])
    _queue_new_orders([outcome.obj.pk for outcome in outcomes if outcome.status == Outcome.CREATED])
    return outcomes


def _order_prepare(
    item: OrderInput, member_phone: str, fingerprint: str, *, carried: set, facts: AttributionFacts
) -> Order:
    """Check a new order and build it, attributed, unsaved; raise ValidationError naming fields."""
    _not_ahead_of_the_clock(item.paid_at, field="paid_at")
    if item.guide is not None and item.guide.store_id != item.store.pk:
        raise ValidationError({"guide": _("This guide does not work at the order's store.")})
    if (item.store.pk, item.brand.pk) not in carried:
        raise ValidationError({"store": _("This store does not carry the brand.")})
    if item.lines and sum((line.amount for line in item.lines), Decimal(0)) != item.amount:
        raise ValidationError({"lines": _("The line amounts must add up to the order amount.")})
    attributed_guide, reason = facts.attribute(
        brand=item.brand, guide=item.guide, member_phone=member_phone, paid_at=item.paid_at
    )
    order = Order(
        order_no=item.order_no,
        brand=item.brand,
        store=item.store,
        guide=item.guide,
        member_phone=member_phone,
        amount=item.amount,
        paid_at=item.paid_at,
        business_date=business_date_of(item.paid_at),
        has_lines=bool(item.lines),
        attributed_guide=attributed_guide,
        attribution_reason=reason,
        request_hash=fingerprint,
    )
    # Of the constraints only the positive amount depends on the input, and
    # checked here it costs no query; the attribution is consistent by
    # construction, and the brand, store and guides were read moments ago.
    # Asking the database again would cost seven queries an order.
    try:
        MinValueValidator(MIN_AMOUNT)(item.amount)
    except ValidationError as exc:
        raise ValidationError({"amount": exc.messages}) from exc
    order.full_clean(
        exclude=["brand", "store", "guide", "attributed_guide"],
        validate_unique=False,
        validate_constraints=False,
    )
    return order


def _orders_write_chunk(chunk: list[tuple[ItemOutcome, tuple[LineInput, ...]]]) -> None:
    """Write a chunk of new orders and their lines in one transaction.

    An order number another request wrote meanwhile (the unique constraint
    refuses the insert) turns that item into a replay or a conflict with the
    stored order, and the rest of the chunk is written again.
    """
    while chunk:
        try:
            with transaction.atomic():
                Order.objects.bulk_create([outcome.obj for outcome, _lines in chunk])
                OrderLine.objects.bulk_create(
                    OrderLine(order=outcome.obj, sku=line.sku, category=line.category,
                              quantity=line.quantity, amount=line.amount)
                    for outcome, lines in chunk
                    for line in lines
                )  # fmt: skip
                orders_attributed_record([outcome.obj for outcome, _lines in chunk])
            return
        except IntegrityError:
            for outcome, _lines in chunk:
                outcome.obj.pk = None
            stored = Order.objects.in_bulk(
                [outcome.obj.order_no for outcome, _lines in chunk], field_name="order_no"
            )
            if not stored:
                raise
            remaining = []
            for outcome, lines in chunk:
                winner = stored.get(outcome.obj.order_no)
                if winner is None:
                    remaining.append((outcome, lines))
                else:
                    settled = _replay_or_conflict(winner, outcome.obj.request_hash)
                    outcome.status, outcome.obj = settled.status, settled.obj
            chunk = remaining


@dataclass(frozen=True)
class RefundInput:
    """One refund as an integration sends it; ``order`` when the caller has read it already."""

    order_no: str
    refund_no: str
    amount: Decimal
    refunded_at: dt.datetime
    order: Order | None = None


def refund_create(
    *, order: Order, refund_no: str, amount: Decimal, refunded_at: dt.datetime
) -> tuple[Refund, bool]:
    """Accept a refund once; refunds of an order never exceed its amount (``refunds_ingest``)."""
    (outcome,) = refunds_ingest(
        refunds=[
            RefundInput(order_no=order.order_no, refund_no=refund_no, amount=amount,
                        refunded_at=refunded_at, order=order)
        ]
    )  # fmt: skip
    return _single_result(outcome)


def _refund_fingerprint(item: RefundInput) -> str:
    return request_fingerprint(
        {
            "order": item.order_no,
            "amount": str(quantize_money(item.amount)),
            "refunded_at": item.refunded_at.astimezone(dt.UTC).isoformat(),
        }
    )


def refunds_ingest(*, refunds: list[RefundInput]) -> list[ItemOutcome]:
    """Accept many refunds, each once; return each one's outcome, in order.

    The rules of ``refund_create`` hold for each: the same ``refund_no`` and
    content is ``replayed``, other content a ``conflict``; a refund of an
    order not received yet, dated before its payment or past what is left to
    refund (counting the refunds before it in the list) is ``invalid``. The
    orders' rows are locked for each chunk's transaction, so concurrent
    refunds of one order never together exceed it; the entry work of all the
    refunded orders is queued once.
    """
    fingerprints = [_refund_fingerprint(item) for item in refunds]
    stored = Refund.objects.in_bulk([item.refund_no for item in refunds], field_name="refund_no")
    orders = Order.objects.in_bulk(
        [item.order_no for item in refunds if item.order is None], field_name="order_no"
    )
    outcomes: list[ItemOutcome] = []
    accepted: dict[str, ItemOutcome] = {}
    repeats: list[int] = []
    for item, fingerprint in zip(refunds, fingerprints, strict=True):
        if item.refund_no in stored:
            outcomes.append(_replay_or_conflict(stored[item.refund_no], fingerprint))
            continue
        if item.refund_no in accepted:
            outcomes.append(ItemOutcome(Outcome.REPLAYED))  # settled once the first is written
            repeats.append(len(outcomes) - 1)
            continue
        order = item.order or orders.get(item.order_no)
        try:
            refund = _refund_prepare(item, order, fingerprint)
        except ValidationError as exc:
            outcomes.append(ItemOutcome(Outcome.INVALID, errors=validation_errors_of(exc)))
            continue
        outcomes.append(ItemOutcome(Outcome.CREATED, obj=refund))
        accepted[item.refund_no] = outcomes[-1]
    new = list(accepted.values())
    for start in range(0, len(new), BATCH_CHUNK_ITEMS):
        _refunds_write_chunk(new[start : start + BATCH_CHUNK_ITEMS])
    for index in repeats:
        first = accepted[refunds[index].refund_no]
        if first.status == Outcome.INVALID:
            outcomes[index] = ItemOutcome(Outcome.INVALID, errors=first.errors)
        else:
            outcomes[index] = _replay_or_conflict(first.obj, fingerprints[index])
    order_ids = sorted(
        {outcome.obj.order_id for outcome in outcomes if outcome.status == Outcome.CREATED}
    )
    if len(order_ids) == 1:
        task_enqueue(task_names.ORDER_ENTRIES_WRITE, order_ids[0])
    elif order_ids:
        task_enqueue(task_names.ORDERS_ENTRIES_WRITE, order_ids)
    return outcomes


def _refund_prepare(item: RefundInput, order: Order | None, fingerprint: str) -> Refund:
    """Check one new refund and build it, unsaved; raise ValidationError naming fields."""
    if order is None:
        raise ValidationError(
            {"order_no": _("This order has not been received; send it before its refunds.")}
        )
    document_number_check(item.refund_no, field="refund_no")
    if item.refunded_at < order.paid_at:
        raise ValidationError({"refunded_at": _("A refund cannot precede the payment.")})
    _not_ahead_of_the_clock(item.refunded_at, field="refunded_at")
    return Refund(
        refund_no=item.refund_no,
        order=order,
        amount=item.amount,
        refunded_at=item.refunded_at,
        business_date=business_date_of(item.refunded_at),
        request_hash=fingerprint,
    )


def _refunds_write_chunk(chunk: list[ItemOutcome]) -> None:
    """Write a chunk of refunds in one transaction, under their orders' row locks.

    What is left to refund is read under the lock: a refund past it turns
    ``invalid``. A refund number another request wrote meanwhile turns that
    item into a replay or a conflict, and the rest is written again.
    """
    while chunk:
        try:
            with transaction.atomic():
                refused = _refunds_write_locked(chunk)
        except IntegrityError:
            stored = Refund.objects.in_bulk(
                [outcome.obj.refund_no for outcome in chunk], field_name="refund_no"
            )
            if not stored:
                raise
            remaining = []
            for outcome in chunk:
                outcome.obj.pk = None
                winner = stored.get(outcome.obj.refund_no)
                if winner is None:
                    remaining.append(outcome)
                else:
                    settled = _replay_or_conflict(winner, outcome.obj.request_hash)
                    outcome.status, outcome.obj = settled.status, settled.obj
            chunk = remaining
            continue
        for outcome, left in refused:
            outcome.status, outcome.obj = Outcome.INVALID, None
            outcome.errors = {
                "amount": [_("Only %(remaining)s is left to refund.") % {"remaining": left}]
            }
        return


def _refunds_write_locked(chunk: list[ItemOutcome]) -> list[tuple[ItemOutcome, Decimal]]:
    """Lock the chunk's orders, write the refunds that fit; return the others with what is left."""
    # Locked in id order, so two batches refunding the same orders never deadlock.
    locked = {
        order.pk: order
        for order in Order.objects.select_for_update()
        .filter(pk__in={outcome.obj.order_id for outcome in chunk})
        .order_by("pk")
    }
    written, refused, refunded = [], [], {}
    for outcome in chunk:
        refund = outcome.obj
        order = locked[refund.order_id]
        left = order.amount - order.refunded_amount - refunded.get(order.pk, Decimal(0))
        if refund.amount > left:
            refused.append((outcome, left))
            continue
        refund.order = order
        refunded[order.pk] = refunded.get(order.pk, Decimal(0)) + refund.amount
        written.append(refund)
    Refund.objects.bulk_create(written)
    for order_id, amount in refunded.items():
        # The new total is computed here, under the row lock, as a Decimal: SQLite would add
        # F("refunded_amount") + amount as floating point and could overshoot the amount.
        locked[order_id].refunded_amount += amount
        Order.objects.filter(pk=order_id).update(refunded_amount=locked[order_id].refunded_amount)
    return refused


def orders_member_phone_pseudonymise(*, brand_id: int, phone: str, pseudonym: str) -> int:
    """Replace an erased member's phone on the brand's orders; return how many changed.

    Amounts, dates, attribution and the entries they produced stay as they
    were: only the number goes. One statement over the (phone, brand) index.
    """
    return Order.objects.filter(brand_id=brand_id, member_phone=phone).update(
        member_phone=pseudonym
    )
