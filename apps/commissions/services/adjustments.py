"""HQ's corrections of what someone earned: adjustments, booked as ledger entries.

The ledger is append-only: nothing edits an entry. An adjustment is the one
way to change what a guide or store earned after the fact: a row with who
and why, and one entry of kind ``adjustment`` that is settled like any other
entry by the beneficiary's terms (at once for T+0, else in the open period
it is due in) and shown on the statement.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.commissions.models import (
    Beneficiary,
    CommissionAdjustment,
    Order,
)
from apps.commissions.services.entries import cutoffs_lock
from apps.commissions.services.orders import (
    DuplicateWithDifferentContent,
    document_number_check,
    request_fingerprint,
    same_or_conflict,
)
from apps.commissions.services.settlements import settlement_settle_adjustment
from apps.commissions.sql import entries as entry_sql
from apps.core.money import quantize_money
from apps.guides.models import Guide
from apps.stores.models import Brand, Store

__all__ = [
    "DuplicateWithDifferentContent",
    "commission_adjustment_check",
    "commission_adjustment_create",
]


def commission_adjustment_check(
    *,
    brand: Brand,
    beneficiary: str,
    amount: Decimal,
    reason: str,
    guide: Guide | None = None,
    store: Store | None = None,
    order: Order | None = None,
) -> Store:
    """Validate an adjustment; return the store it is paid with (a guide's is the guide's store)."""
    errors = {}
    if beneficiary == Beneficiary.GUIDE:
        if guide is None:
            errors["guide"] = _("Name the guide this adjustment pays.")
        elif store is not None and store.pk != guide.store_id:
            errors["store"] = _("A guide's adjustment is paid with the guide's own store.")
        else:
            store = guide.store
    elif guide is not None:
        errors["guide"] = _("A store's adjustment names no guide.")
    elif store is None:
        errors["store"] = _("Name the store this adjustment pays.")
    payee_known = store is not None and "store" not in errors and "guide" not in errors
    if payee_known and not store.brands.filter(pk=brand.pk).exists():
        field = "guide" if beneficiary == Beneficiary.GUIDE else "store"
        errors[field] = _("This store does not carry the brand.")
    if amount is None or quantize_money(amount) == 0:
        errors["amount"] = _("An adjustment moves money: give a positive or negative amount.")
    if not (reason or "").strip():
        errors["reason"] = _("Say why: the reason is kept with the ledger.")
    if order is not None:
        if order.brand_id != brand.pk:
            errors["order"] = _("This order is of another brand.")
        elif beneficiary == Beneficiary.STORE and store is not None and order.store_id != store.pk:
            errors["order"] = _("This order was sold by another store.")
    if errors:
        raise ValidationError(errors)
    return store


def commission_adjustment_create(
    *,
    reference: str,
    brand: Brand,
    beneficiary: str,
    amount: Decimal,
    reason: str,
    actor,
    guide: Guide | None = None,
    store: Store | None = None,
    order: Order | None = None,
) -> tuple[CommissionAdjustment, bool]:
    """Record an adjustment once and book its entry; return it and whether it is new.

    ``reference`` is the caller's idempotency key: the same content again
    returns the stored adjustment, other content raises
    ``DuplicateWithDifferentContent``.
    """
    request_hash = request_fingerprint(
        {
            "brand": brand.code,
            "beneficiary": beneficiary,
            "guide": guide.employee_no if guide else None,
            "store": store.code if store else None,
            "order": order.order_no if order else None,
            "amount": str(quantize_money(amount)) if amount is not None else None,
            "reason": (reason or "").strip(),
        }
    )
    existing = CommissionAdjustment.objects.filter(reference=reference).first()
    if existing is not None:
        return same_or_conflict(existing, request_hash), False
    document_number_check(reference, field="reference")
    store = commission_adjustment_check(
        brand=brand, beneficiary=beneficiary, amount=amount, reason=reason, guide=guide,
        store=store, order=order,
    )  # fmt: skip
    adjustment = CommissionAdjustment(
        reference=reference,
        brand=brand,
        beneficiary=beneficiary,
        guide=guide if beneficiary == Beneficiary.GUIDE else None,
        store=store,
        order=order,
        amount=quantize_money(amount),
        business_date=timezone.localdate(),
        reason=reason.strip(),
        actor=actor,
        request_hash=request_hash,
    )
    adjustment.full_clean(
        exclude=["brand", "guide", "store", "order", "actor"], validate_unique=False
    )
    try:
        with transaction.atomic():
            adjustment.save()
            _book(adjustment)
    except IntegrityError:
        # A concurrent request with the same reference won the insert.
        existing = CommissionAdjustment.objects.filter(reference=reference).first()
        if existing is None:
            raise
        return same_or_conflict(existing, request_hash), False
    return adjustment, True


def _book(adjustment: CommissionAdjustment) -> None:
    """Write the adjustment's entry and put it in its settlement, as an entry writer would."""
    with connection.cursor() as cursor:
        cutoffs_lock(cursor, brand_ids=[adjustment.brand_id], for_update=False)
        cursor.execute(
            entry_sql.insert_adjustment_entry(connection.vendor),
            {"adjustment_id": adjustment.pk, "now": timezone.now()},
        )
    settlement_settle_adjustment(
        adjustment_id=adjustment.pk,
        source_ref=f"adjustment:{adjustment.reference}",
        business_date=adjustment.business_date,
    )
