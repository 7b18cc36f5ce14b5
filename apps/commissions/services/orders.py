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
from django.utils.translation import gettext as _

from apps.commissions import task_names
from apps.commissions.models import BrandCommissionPolicy, Order, OrderLine, Refund
from apps.core.money import MIN_AMOUNT, quantize_money
from apps.core.phones import phone_normalise
from apps.core.tasking import task_enqueue, task_enqueue_coalesced
from apps.customers.models import Membership
from apps.guides.models import Guide
from apps.stores.models import Brand, Store

# Set while a coalesced run of new orders is queued (``task_enqueue_coalesced``).
ORDERS_WAITING_KEY = "commissions:entries-waiting-queued"


class DuplicateWithDifferentContent(Exception):
    """The business key exists with a different body."""


def business_date_of(moment: dt.datetime) -> dt.date:
    """Return the local calendar date of ``moment`` in the project's time zone."""
    return moment.astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE)).date()


def _fingerprint(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _same_or_conflict(existing, fingerprint: str):
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
    """Decide which guide earns on an order, and why."""
    reason = Order.AttributionReason
    policy = BrandCommissionPolicy.objects.filter(brand=brand).first()
    binding_days = policy.binding_days if policy else None
    bound_first = bool(
        policy and policy.attribution_policy == policy.AttributionPolicy.BOUND_GUIDE_FIRST
    )
    bound = None
    if member_phone and (bound_first or guide is None):
        membership = (
            Membership.objects.filter(
                customer__phone=member_phone, brand=brand, guide__isnull=False
            )
            .select_related("guide")
            .first()
        )
        if membership is not None and _binding_covers(
            bound_at=membership.bound_at, binding_days=binding_days, paid_at=paid_at
        ):
            bound = membership.guide
    if bound_first and bound is not None:
        return bound, reason.BOUND_GUIDE
    if guide is not None:
        return guide, reason.ORDER_GUIDE
    if bound is not None:
        return bound, reason.BOUND_GUIDE
    return None, reason.NONE


def _binding_covers(
    *, bound_at: dt.datetime | None, binding_days: int | None, paid_at: dt.datetime
) -> bool:
    if bound_at is None:
        return binding_days is None
    if bound_at > paid_at:
        return False
    return binding_days is None or paid_at <= bound_at + dt.timedelta(days=binding_days)


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
    fingerprint = _fingerprint(
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
        return _same_or_conflict(existing, fingerprint), False
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
            _queue_new_order(order.pk)
    except IntegrityError:
        # A concurrent request with the same order_no won the insert.
        existing = Order.objects.filter(order_no=order_no).first()
        if existing is None:
            raise
        return _same_or_conflict(existing, fingerprint), False
    return order, True


def refund_create(
    *, order: Order, refund_no: str, amount: Decimal, refunded_at: dt.datetime
) -> tuple[Refund, bool]:
    """Accept a refund once; refunds of an order never exceed its amount."""
    fingerprint = _fingerprint(
        {
            "order": order.order_no,
            "amount": str(quantize_money(amount)),
            "refunded_at": refunded_at.astimezone(dt.UTC).isoformat(),
        }
    )
    existing = Refund.objects.filter(refund_no=refund_no).first()
    if existing is not None:
        return _same_or_conflict(existing, fingerprint), False
    if refunded_at < order.paid_at:
        raise ValidationError({"refunded_at": _("A refund cannot precede the payment.")})
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
        return _same_or_conflict(existing, fingerprint), False
    return refund, True
