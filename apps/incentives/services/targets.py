"""Monthly sales targets: set one, or import a month's targets from CSV, all or nothing."""

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from apps.commissions.models import Beneficiary
from apps.core.money import MONEY_MAX_DIGITS, quantize_money
from apps.core.scoping import Scope
from apps.guides.models import Guide
from apps.incentives.models import BonusMonthClose, SalesTarget
from apps.stores.models import Brand, Store

CSV_COLUMNS = ("brand", "month", "store", "guide", "amount")
CSV_MAX_ROWS = 50_000
MAX_TARGET = Decimal(10) ** (MONEY_MAX_DIGITS - 2 - 1)  # well inside the column


def month_parse(value: str) -> dt.date:
    """Parse ``YYYY-MM`` (or a date on the 1st) into the month's first day."""
    text = (value or "").strip()
    try:
        if len(text) == 7:
            return dt.date.fromisoformat(text + "-01")
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationError(_("Give the month as YYYY-MM.")) from None
    if day.day != 1:
        raise ValidationError(_("Give the month as YYYY-MM."))
    return day


def month_is_closed(*, brand_id: int, month: dt.date) -> bool:
    return BonusMonthClose.objects.filter(
        brand_id=brand_id, month=month, closed_at__isnull=False
    ).exists()


def sales_target_check(
    *,
    scope: Scope,
    brand: Brand,
    month: dt.date,
    amount: Decimal,
    store: Store | None,
    guide: Guide | None = None,
) -> Store:
    """Validate a target; return its store (a guide's target is kept with the guide's store)."""
    errors = {}
    if guide is not None:
        if store is not None and store.pk != guide.store_id:
            errors["guide"] = _("This guide does not work at that store.")
        store = guide.store
    if store is None:
        errors.setdefault("store", _("Name the store (and the guide, for a guide's target)."))
    elif not scope.covers_store(store_id=store.pk, region_id=store.region_id):
        errors["store"] = _("This store is outside the stores you manage.")
    elif not store.brands.filter(pk=brand.pk).exists():
        errors["store"] = _("This store does not carry the brand.")
    if month.day != 1:
        errors["month"] = _("Give the month as YYYY-MM.")
    elif month_is_closed(brand_id=brand.pk, month=month):
        errors["month"] = _("This month is closed: its targets are frozen on the bonuses paid.")
    if amount is None or not amount.is_finite() or amount <= 0 or amount >= MAX_TARGET:
        errors["amount"] = _("The target is a positive amount in yuan.")
    if errors:
        raise ValidationError(errors)
    return store


def sales_target_set(
    *,
    scope: Scope,
    actor,
    brand: Brand,
    month: dt.date,
    amount: Decimal,
    store: Store | None = None,
    guide: Guide | None = None,
) -> SalesTarget:
    """Set the month's target of a guide (``guide``) or a store; replace one not yet closed."""
    store = sales_target_check(
        scope=scope, brand=brand, month=month, amount=amount, store=store, guide=guide
    )
    beneficiary = Beneficiary.GUIDE if guide is not None else Beneficiary.STORE
    key = {"brand": brand, "month": month, "beneficiary": beneficiary}
    key.update({"guide": guide} if guide is not None else {"store": store, "guide": None})
    with transaction.atomic():
        target, _created = SalesTarget.objects.select_for_update().update_or_create(
            **key, defaults={"amount": quantize_money(amount), "store": store, "set_by": actor}
        )
    return target


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    message: str

    def as_dict(self) -> dict:
        return {"line": self.line, "column": self.column, "message": self.message}


class TargetImportError(Exception):
    """The CSV had errors: nothing was imported. ``errors`` names each line and column."""

    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} error(s)")
        self.errors = errors


def sales_targets_import(*, scope: Scope, actor, csv_text: str) -> int:
    """Import targets from CSV (``brand,month,store,guide,amount``); return how many were set.

    Every row is checked first; any error imports nothing and raises
    ``TargetImportError`` with each error's line (the header is line 1) and
    column. An empty ``guide`` is the store's target.
    """
    reader = csv.DictReader(io.StringIO(csv_text.lstrip("\ufeff")))
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    missing = [name for name in CSV_COLUMNS if name not in header]
    if missing:
        raise TargetImportError(
            [RowError(1, name, _("This column is missing from the header.")) for name in missing]
        )
    reader.fieldnames = header
    rows = list(reader)
    if len(rows) > CSV_MAX_ROWS:
        raise TargetImportError(
            [RowError(1, "", _("At most %(max)s rows per file.") % {"max": CSV_MAX_ROWS})]
        )
    brands = {b.code: b for b in Brand.objects.filter(code__in={r["brand"] for r in rows})}
    stores = {s.code: s for s in Store.objects.filter(code__in={r["store"] for r in rows})}
    guides = {
        g.employee_no: g
        for g in Guide.objects.select_related("store").filter(
            employee_no__in={r["guide"] for r in rows if r.get("guide")}
        )
    }
    errors: list[RowError] = []
    parsed = []
    seen: dict[tuple, int] = {}
    for line, row in enumerate(rows, start=2):
        row = {k: (v or "").strip() for k, v in row.items() if k}
        row_errors = []
        brand = brands.get(row["brand"])
        if brand is None:
            row_errors.append(RowError(line, "brand", _("Unknown brand code.")))
        try:
            month = month_parse(row["month"])
        except ValidationError as exc:
            month = None
            row_errors.append(RowError(line, "month", exc.messages[0]))
        store = stores.get(row["store"]) if row["store"] else None
        if row["store"] and store is None:
            row_errors.append(RowError(line, "store", _("Unknown store code.")))
        guide = None
        if row["guide"]:
            guide = guides.get(row["guide"])
            if guide is None:
                row_errors.append(RowError(line, "guide", _("Unknown employee no.")))
        try:
            amount = Decimal(row["amount"].replace(",", ""))
        except InvalidOperation:
            amount = None
            row_errors.append(RowError(line, "amount", _("Not a number.")))
        if not row_errors:
            try:
                store = sales_target_check(
                    scope=scope, brand=brand, month=month, amount=amount, store=store, guide=guide
                )
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    row_errors.extend(RowError(line, field, m) for m in messages)
        if not row_errors:
            key = (brand.pk, month, guide.pk if guide else None, None if guide else store.pk)
            if key in seen:
                row_errors.append(
                    RowError(
                        line,
                        "guide" if guide else "store",
                        _("The same target is already on line %(line)s.") % {"line": seen[key]},
                    )
                )
            seen[key] = line
        errors.extend(row_errors)
        if not row_errors:
            parsed.append((brand, month, store, guide, amount))
    if errors:
        raise TargetImportError(errors)
    with transaction.atomic():
        for brand, month, store, guide, amount in parsed:
            sales_target_set(
                scope=scope, actor=actor, brand=brand, month=month, amount=amount, store=store,
                guide=guide,
            )  # fmt: skip
    return len(parsed)
