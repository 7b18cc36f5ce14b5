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
from apps.commissions.outbound_events import order_attributed_record
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
    reason = Order.AttributionReason
    policy = BrandCommissionPolicy.objects.filter(brand=brand).first()
    bound_first = bool(
        policy and policy.attribution_policy == policy.AttributionPolicy.BOUND_GUIDE_FIRST
    )
    if guide is not None and not bound_first:
        return guide, reason.ORDER_GUIDE
    membership = None
    if member_phone:
        membership = (
            Membership.objects.filter(customer__phone=member_phone, brand=brand)
            .select_related("guide")
            .first()
        )
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


def _queue_new_order(order_id: int) -> None:
    if settings.TASK_COALESCING:
        task_enqueue_coalesced(
            task_names.ORDERS_WAITING_WRITE, key=ORDERS_WAITING_KEY, args=(order_id,)
        )
    else:
        task_enqueue(task_names.ORDER_ENTRIES_WRITE, order_id)


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
    with different content raises ``DuplicateWithDifferentContent``. Entries
    are written by a task queued when the transaction commits.
    """
    lines = lines or []
    if member_phone:
        try:
            member_phone = phone_normalise(member_phone)
        except ValidationError as exc:
            raise ValidationError({"member_phone": exc.messages}) from exc
    fingerprint = request_fingerprint(
        {
            "brand": brand.code,
            "store": store.code,
            "guide": guide.employee_no if guide else None,
            "member_phone": member_phone,
            "amount": str(quantize_money(amount)),
            "paid_at": paid_at.astimezone(dt.UTC).isoformat(),
            "lines": [
                [line.sku, line.category, line.quantity, str(quantize_money(line.amount))]
                for line in lines
            ],
        }
    )
    existing = Order.objects.filter(order_no=order_no).first()
    if existing is not None:
        return same_or_conflict(existing, fingerprint), False
    _not_ahead_of_the_clock(paid_at, field="paid_at")
    if guide is not None and guide.store_id != store.pk:
        raise ValidationError({"guide": _("This guide does not work at the order's store.")})
    if not store.brands.filter(pk=brand.pk).exists():
        raise ValidationError({"store": _("This store does not carry the brand.")})
    if lines and sum((line.amount for line in lines), Decimal(0)) != amount:
        raise ValidationError({"lines": _("The line amounts must add up to the order amount.")})
    attributed_guide, reason = order_attribute(
        brand=brand, guide=guide, member_phone=member_phone, paid_at=paid_at
    )
    order = Order(
        order_no=order_no,
        brand=brand,
        store=store,
        guide=guide,
        member_phone=member_phone,
        amount=amount,
        paid_at=paid_at,
        business_date=business_date_of(paid_at),
        has_lines=bool(lines),
        attributed_guide=attributed_guide,
        attribution_reason=reason,
        request_hash=fingerprint,
    )
    # Of the constraints only the positive amount depends on the input, and
    # checked here it costs no query; the attribution is consistent by
    # construction, and the brand, store and guides were read moments ago.
    # Asking the database again would cost seven queries an order.
    try:
        MinValueValidator(MIN_AMOUNT)(amount)
    except ValidationError as exc:
        raise ValidationError({"amount": exc.messages}) from exc
    order.full_clean(
        exclude=["brand", "store", "guide", "attributed_guide"],
        validate_unique=False,
        validate_constraints=False,
    )
    try:
        with transaction.atomic():
            order.save()
            OrderLine.objects.bulk_create(
                OrderLine(order=order, sku=line.sku, category=line.category,
                          quantity=line.quantity, amount=line.amount)
                for line in lines
            )  # fmt: skip
            order_attributed_record(order)
            _queue_new_order(order.pk)
    except IntegrityError:
        # A concurrent request with the same order_no won the insert.
        existing = Order.objects.filter(order_no=order_no).first()
        if existing is None:
            raise
        return same_or_conflict(existing, fingerprint), False
    return order, True


def refund_create(
    *, order: Order, refund_no: str, amount: Decimal, refunded_at: dt.datetime
) -> tuple[Refund, bool]:
    """Accept a refund once; refunds of an order never exceed its amount."""
    fingerprint = request_fingerprint(
        {
            "order": order.order_no,
            "amount": str(quantize_money(amount)),
            "refunded_at": refunded_at.astimezone(dt.UTC).isoformat(),
        }
    )
    existing = Refund.objects.filter(refund_no=refund_no).first()
    if existing is not None:
        return same_or_conflict(existing, fingerprint), False
    document_number_check(refund_no, field="refund_no")
    if refunded_at < order.paid_at:
        raise ValidationError({"refunded_at": _("A refund cannot precede the payment.")})
    _not_ahead_of_the_clock(refunded_at, field="refunded_at")
    try:
        with transaction.atomic():
            # The order row lock serialises refunds of one order, so two
            # concurrent refunds cannot together exceed the amount.
            locked = Order.objects.select_for_update().get(pk=order.pk)
            remaining = locked.amount - locked.refunded_amount
            if amount > remaining:
                raise ValidationError(
                    {
                        "amount": _("Only %(remaining)s is left to refund.")
                        % {"remaining": remaining}
                    }
                )
            refund = Refund.objects.create(
                refund_no=refund_no,
                order=locked,
                amount=amount,
                refunded_at=refunded_at,
                business_date=business_date_of(refunded_at),
                request_hash=fingerprint,
            )
            locked.refunded_amount = locked.refunded_amount + amount
            locked.save(update_fields=["refunded_amount"])
            task_enqueue(task_names.ORDER_ENTRIES_WRITE, locked.pk)
    except IntegrityError:
        existing = Refund.objects.filter(refund_no=refund_no).first()
        if existing is None:
            raise
        return same_or_conflict(existing, fingerprint), False
    return refund, True
