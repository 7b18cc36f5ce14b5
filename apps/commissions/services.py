"""Writes of the commissions app: plans, orders, refunds, ledger entries, settlements."""

import datetime as dt
import hashlib
import json
import logging
import time
import uuid
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.commissions import sql
from apps.commissions.calculations import month_bounds, quantize_money
from apps.commissions.models import (
    BrandCommissionPolicy,
    CommissionEntry,
    CommissionPlan,
    Order,
    OrderLine,
    Refund,
    Settlement,
    SettlementCutoff,
    SettlementMode,
    SettlementTerms,
)
from apps.core.phones import phone_normalise
from apps.core.tasking import task_queue_coalesced
from apps.customers.models import Membership
from apps.guides.models import Guide
from apps.stores.models import Brand, Store

logger = logging.getLogger(__name__)

# Key of the PostgreSQL advisory lock held by scheduled settlement runs: two
# beat processes, or a manual run during the nightly one, queue up behind it.
SETTLEMENT_RUN_LOCK_KEY = 4_104_202_611
# An order pays at least a cent (the database refuses anything not positive).
MIN_ORDER_AMOUNT = Decimal("0.01")


class DuplicateWithDifferentContent(Exception):
    """The business key exists with a different body."""


def business_date_of(moment: dt.datetime) -> dt.date:
    """Return the local calendar date of ``moment`` in the project's time zone."""
    return moment.astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE)).date()


def _fingerprint(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


# Plans and terms -------------------------------------------------------------


def plan_specificity(*, store: Store | None, store_kind: str, category: str) -> int:
    """Rank a plan's scope: store+category > store > kind+category > kind > category > brand."""
    spec = CommissionPlan.Specificity
    if store is not None:
        return spec.STORE_CATEGORY if category else spec.STORE
    if store_kind:
        return spec.KIND_CATEGORY if category else spec.KIND
    return spec.CATEGORY if category else spec.BRAND


def commission_plan_validate(plan: CommissionPlan) -> None:
    """Reject a plan whose scope and validity overlap another plan of equal specificity."""
    if plan.store_id and plan.store_kind:
        raise ValidationError({"store_kind": _("Give a store or a store kind, not both.")})
    if plan.store_id and not plan.store.brands.filter(pk=plan.brand_id).exists():
        raise ValidationError({"store": _("This store does not carry the plan's brand.")})
    plan.specificity = plan_specificity(
        store=plan.store, store_kind=plan.store_kind, category=plan.category
    )
    overlapping = CommissionPlan.objects.filter(
        brand_id=plan.brand_id,
        store_id=plan.store_id,
        store_kind=plan.store_kind,
        category=plan.category,
        specificity=plan.specificity,
    ).exclude(pk=plan.pk)
    overlapping = overlapping.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=plan.valid_from))
    if plan.valid_to is not None:
        overlapping = overlapping.filter(valid_from__lte=plan.valid_to)
    if overlapping.exists():
        raise ValidationError(
            {"valid_from": _("Another plan with the same scope is valid in this period.")}
        )


@transaction.atomic
def commission_plan_create(
    *,
    brand: Brand,
    guide_rate: Decimal,
    store_rate: Decimal,
    valid_from: dt.date,
    valid_to: dt.date | None = None,
    store: Store | None = None,
    store_kind: str = "",
    category: str = "",
) -> CommissionPlan:
    """Create a plan; overlapping plans of equal specificity are rejected."""
    # Plans of one brand are checked for overlap one at a time.
    Brand.objects.select_for_update().filter(pk=brand.pk).first()
    plan = CommissionPlan(
        brand=brand,
        store=store,
        store_kind=store_kind,
        category=category,
        guide_rate=guide_rate,
        store_rate=store_rate,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    commission_plan_validate(plan)
    plan.full_clean()
    plan.save()
    return plan


def settlement_terms_set(
    *, brand: Brand, mode: str, store: Store | None = None, hold_days: int | None = None
) -> SettlementTerms:
    """Set the brand default (no store) or a store's settlement terms."""
    fixed_hold = {SettlementMode.T0: 0, SettlementMode.T1: 1, SettlementMode.MONTHLY: 0}
    if mode == SettlementMode.TN:
        if not hold_days or hold_days < 1:
            raise ValidationError({"hold_days": _("T+N needs a hold of at least one day.")})
    else:
        hold_days = fixed_hold[SettlementMode(mode)]
    if store is not None and not store.brands.filter(pk=brand.pk).exists():
        raise ValidationError({"store": _("This store does not carry the brand.")})
    terms, _created = SettlementTerms.objects.update_or_create(
        brand=brand, store=store, defaults={"mode": mode, "hold_days": hold_days}
    )
    return terms


# Orders and refunds ------------------------------------------------------------


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


def _queue_entries(order_id: int) -> None:
    from apps.commissions.tasks import commission_entries_write

    transaction.on_commit(partial(commission_entries_write.delay, order_id))


def _queue_new_order_entries(order_id: int) -> None:
    from apps.commissions.tasks import (
        commission_entries_write,
        commission_entries_write_waiting_task,
    )

    if settings.TASK_COALESCING:
        queue = partial(
            task_queue_coalesced, commission_entries_write_waiting_task,
            key=ENTRY_WAITING_KEY, args=(order_id,),
        )  # fmt: skip
        transaction.on_commit(queue)
    else:
        transaction.on_commit(partial(commission_entries_write.delay, order_id))


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
        MinValueValidator(MIN_ORDER_AMOUNT)(amount)
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
            _queue_new_order_entries(order.pk)
    except IntegrityError:
        # A concurrent request with the same order_no won the insert.
        existing = Order.objects.filter(order_no=order_no).first()
        if existing is None:
            raise
        return _same_or_conflict(existing, fingerprint), False
    return order, True


def _same_or_conflict(existing, fingerprint: str):
    if existing.request_hash != fingerprint:
        raise DuplicateWithDifferentContent(str(existing))
    return existing


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
            _queue_entries(locked.pk)
    except IntegrityError:
        existing = Refund.objects.filter(refund_no=refund_no).first()
        if existing is None:
            raise
        return _same_or_conflict(existing, fingerprint), False
    return refund, True


# Ledger entries ----------------------------------------------------------------


def commission_entries_write(
    *,
    order_id: int | None = None,
    business_date: dt.date | None = None,
    order_ids: list[int] | None = None,
) -> int:
    """Write every missing entry of one order, of a list of orders or of a business date.

    One set-based definition serves all: entries of the orders, then the
    clawback entries of their refunds, each written straight into the open
    settlement of the period it is due in (opened here if needed). Entries
    already written are skipped by the unique keys, so running it again
    writes nothing. Returns rows written.
    """
    if sum(arg is not None for arg in (order_id, business_date, order_ids)) != 1:
        raise ValueError("Give exactly one of order_id, order_ids and business_date.")
    if order_id is not None:
        order_filter, params = "o.id = %(order_id)s", {"order_id": order_id}
        brand_ids = list(Order.objects.filter(pk=order_id).values_list("brand_id", flat=True))
    elif order_ids is not None:
        if not order_ids:
            return 0
        # Integers from the database, rendered inline: one parameter per id
        # would exceed SQLite's limit on bound variables.
        order_filter, params = f"o.id IN ({', '.join(str(int(i)) for i in order_ids)})", {}
        brand_ids = list(
            Order.objects.filter(pk__in=order_ids).values_list("brand_id", flat=True).distinct()
        )
    else:
        order_filter, params = (
            "o.business_date = %(business_date)s",
            {"business_date": business_date},
        )
        brand_ids = list(Brand.objects.values_list("pk", flat=True))
    params["now"] = timezone.now()
    vendor = connection.vendor
    written = 0
    with transaction.atomic(), connection.cursor() as cursor:
        _cutoffs_lock(cursor, brand_ids=brand_ids, for_update=False)
        if vendor == "postgresql" and business_date is not None:
            # A sale day's statements join a million rows. The planner cannot
            # estimate the rows of their CTEs (it guesses dozens) and would
            # probe an index per row in nested loops or sort by store for a
            # merge join; hash joins read each table once and keep the
            # orders' scan order, so the ledger's indexes take the new
            # entries in key order. JIT compiling only adds seconds here.
            cursor.execute(f"SET LOCAL work_mem = '{BULK_WORK_MEM}'")
            cursor.execute("SET LOCAL enable_mergejoin = off")
            cursor.execute("SET LOCAL enable_nestloop = off")
            cursor.execute("SET LOCAL jit = off")
        for open_settlements, insert_entries in (
            (sql.open_settlements_for_orders, sql.insert_order_entries),
            (sql.open_settlements_for_refunds, sql.insert_refund_entries),
        ):
            cursor.execute(open_settlements(vendor).format(order_filter=order_filter), params)
            if vendor == "postgresql" and business_date is not None:
                # Thousands of settlements were just opened: without fresh
                # statistics the entries' join to them becomes a nested loop.
                cursor.execute(f"ANALYZE {sql.T['settlement']}")
            cursor.execute(insert_entries(vendor).format(order_filter=order_filter), params)
            written += max(cursor.rowcount, 0)
    return written


# A settlement run first writes the entries whose task never ran (its message
# was lost with a broker, or its worker died past its retries) for orders and
# refunds of this many days back: enough for the previous month of a monthly
# run. An order of a brand with a valid plan that still earns nothing (its
# categories have no plan) is looked at again by each run.
ENTRY_CATCH_UP_DAYS = 35
ENTRY_CATCH_UP_BATCH = 5_000


def commission_entries_catch_up(
    *, since: dt.date, until: dt.date, brand: Brand | None = None
) -> int:
    """Write the missing entries of orders and refunds dated ``since``–``until``; return rows."""
    entry, order, refund, plan = (
        CommissionEntry._meta.db_table,
        Order._meta.db_table,
        Refund._meta.db_table,
        CommissionPlan._meta.db_table,
    )
    brand_filter = "AND o.brand_id = %(brand_id)s" if brand else ""
    # Anti-joins on the entries' unique indexes: cheap when nothing is missing.
    gaps = f"""
        SELECT o.id FROM {order} o
        WHERE o.business_date BETWEEN %(since)s AND %(until)s {brand_filter}
          AND NOT EXISTS (SELECT 1 FROM {entry} e
                          WHERE e.order_id = o.id AND e.refund_id IS NULL)
          AND EXISTS (SELECT 1 FROM {plan} p
                      WHERE p.brand_id = o.brand_id AND p.valid_from <= o.business_date
                        AND (p.valid_to IS NULL OR p.valid_to >= o.business_date))
        UNION
        SELECT o.id FROM {refund} r JOIN {order} o ON o.id = r.order_id
        WHERE r.business_date BETWEEN %(since)s AND %(until)s {brand_filter}
          AND NOT EXISTS (SELECT 1 FROM {entry} e WHERE e.refund_id = r.id)
          AND EXISTS (SELECT 1 FROM {entry} e
                      WHERE e.order_id = o.id AND e.refund_id IS NULL)
    """  # noqa: S608 - table names from model metadata; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(
            gaps, {"since": since, "until": until, "brand_id": brand.pk if brand else None}
        )
        order_ids = sorted(row[0] for row in cursor.fetchall())
    written = 0
    for start in range(0, len(order_ids), ENTRY_CATCH_UP_BATCH):
        written += commission_entries_write(
            order_ids=order_ids[start : start + ENTRY_CATCH_UP_BATCH]
        )
    if written:
        logger.warning(
            "settlement run: wrote %s missing entries of %s orders (their tasks were lost)",
            written,
            len(order_ids),
        )
    return written


# Settlement --------------------------------------------------------------------

# Memory for the sorts and hashes of one bulk statement (PostgreSQL), so that a
# sale day's entries are grouped in memory rather than spilled to disk.
BULK_WORK_MEM = "256MB"
SCHEDULED_MODES = (SettlementMode.T1, SettlementMode.TN, SettlementMode.MONTHLY)


def _cutoffs_lock(cursor, *, brand_ids: list[int], for_update: bool) -> None:
    """Make sure the brands' cutoff rows exist and lock them, in id order.

    Entry writers take a share lock for their whole transaction and the run
    an exclusive one, so a run's cutoff never moves under a writer that has
    read it: the writer's entries are in before the close, or after it in a
    later period.
    """
    if not brand_ids:
        return
    existing = set(
        SettlementCutoff.objects.filter(brand_id__in=brand_ids).values_list("brand_id", "mode")
    )
    missing = [
        SettlementCutoff(brand_id=brand_id, mode=mode)
        for brand_id in brand_ids
        for mode in SCHEDULED_MODES
        if (brand_id, mode) not in existing
    ]
    if missing:
        SettlementCutoff.objects.bulk_create(missing, ignore_conflicts=True)
    if connection.vendor != "postgresql":
        return  # SQLite serialises writing transactions.
    strength = "UPDATE" if for_update else "SHARE"
    cursor.execute(
        f"SELECT id FROM {sql.T['cutoff']} WHERE brand_id = ANY(%s) "  # noqa: S608
        f"ORDER BY id FOR {strength}",
        [list(brand_ids)],
    )


@dataclass(frozen=True)
class SettlementRunResult:
    run_date: dt.date
    run_tokens: tuple[str, ...]
    settlement_count: int
    entry_count: int
    total: Decimal
    dry_run: bool = False
    preview: tuple = ()

    @property
    def settlements(self):
        """The settlements written (empty after a dry run, which rolled them back)."""
        return _settlements_of(list(self.run_tokens))


def _run_summary(tokens: list[str]) -> tuple[int, int, Decimal]:
    from django.db.models import Count, Sum

    summary = Settlement.objects.filter(run_token__in=tokens).aggregate(
        count=Count("pk"), total=Sum("total")
    )
    entries = CommissionEntry.objects.filter(settlement__run_token__in=tokens).count()
    return summary["count"], entries, quantize_money(summary["total"] or Decimal(0))


def _settle(
    *,
    entry_filter: str,
    params: dict,
    period_start: dt.date,
    period_end: dt.date,
    source_ref: str = "",
) -> str:
    """Settle the unsettled entries ``entry_filter`` selects in new settlements.

    Serves T+0 (one order's or refund's entries) and T+0 entries a lost task
    left behind. Runs in the caller's transaction: either every settlement is
    written with its entries claimed and totals summed, or nothing is. Returns
    the run token.
    """
    run_token = uuid.uuid4().hex
    params = {
        **params,
        "period_start": period_start,
        "period_end": period_end,
        "source_ref": source_ref,
        "run_token": run_token,
        "now": timezone.now(),
    }
    _settle_with(
        inserts=[sql.INSERT_SETTLEMENTS[kind].format(entry_filter=entry_filter) for kind in KINDS],
        claims=[sql.CLAIM_ENTRIES[kind].format(entry_filter=entry_filter) for kind in KINDS],
        params=params,
    )
    return run_token


KINDS = ("guide", "store")


def _settle_with(*, inserts: list[str], claims: list[str], params: dict) -> None:
    """Write settlements, claim their entries, drop the empty ones, carry, total."""
    with connection.cursor() as cursor:
        for statement in inserts:
            cursor.execute(statement, params)
        for statement in claims:
            cursor.execute(statement, params)
        cursor.execute(sql.DELETE_EMPTY_SETTLEMENTS, params)
    _carry_forward(run_token=params["run_token"])
    with connection.cursor() as cursor:
        cursor.execute(sql.UPDATE_TOTALS, params)


def _close_open_settlements(
    cursor, *, modes: list[str], through: dt.date, brand_ids: list[int], params: dict
) -> None:
    """Close the open settlements of ``modes`` due by ``through`` and move the cutoff there.

    Entries written without a settlement (a writer raced another to open it,
    or they predate open settlements) are first put in theirs.
    """
    timer = _StepTimer(params["run_token"])
    vendor = connection.vendor
    mode_list = ", ".join(f"'{SettlementMode(m).value}'" for m in modes)
    by_brand = " AND {alias}.brand_id = %(brand_id)s" if params.get("brand_id") else ""
    entry_filter = f"e.mode IN ({mode_list})" + by_brand.format(alias="e")
    for statement in (sql.open_settlements_for_unsettled, sql.claim_unsettled_into_open):
        cursor.execute(statement(vendor).format(entry_filter=entry_filter), params)
    timer.step("late entries")
    SettlementCutoff.objects.filter(brand_id__in=brand_ids, mode__in=modes).filter(
        Q(closed_through__isnull=True) | Q(closed_through__lt=through)
    ).update(closed_through=through)
    settlement_filter = (
        f"s.mode IN ({mode_list}) AND s.period_end <= %(through)s" + by_brand.format(alias="s")
    )
    params = {**params, "through": through}
    for statement in (sql.DELETE_EMPTY_OPEN_SETTLEMENTS, sql.CLOSE_OPEN_SETTLEMENTS):
        cursor.execute(statement.format(settlement_filter=settlement_filter), params)
    timer.step("close")


class _StepTimer:
    """Log how long each step of a settlement run takes (at DEBUG)."""

    def __init__(self, label: str):
        self.label, self.last = label, time.perf_counter()

    def step(self, name: str) -> None:
        now = time.perf_counter()
        logger.debug("settlement %s: %s %.3fs", self.label, name, now - self.last)
        self.last = now


def _carry_forward(*, run_token: str) -> None:
    """Net each beneficiary's unsettled negative balance into their new settlement."""
    new = Settlement.objects.filter(run_token=run_token)
    negatives = (
        Settlement.objects.filter(total__lt=0, carried_into__isnull=True)
        .filter(
            Q(beneficiary="guide", guide_id__in=new.filter(beneficiary="guide").values("guide_id"))
            | Q(
                beneficiary="store", store_id__in=new.filter(beneficiary="store").values("store_id")
            )
        )
        .exclude(run_token=run_token)
        .order_by("pk")
    )
    used: set[int] = set()
    for previous in negatives:
        key = (
            {"guide_id": previous.guide_id}
            if previous.guide_id
            else {"store_id": previous.store_id}
        )
        target = (
            new.filter(beneficiary=previous.beneficiary, brand_id=previous.brand_id, **key)
            .exclude(pk__in=used)
            .order_by("pk")
            .first()
        )
        if target is None:
            continue
        used.add(target.pk)
        target.carried_from = previous
        target.carried_forward = previous.total
        target.total = target.entries_total + previous.total
        target.save(update_fields=["carried_from", "carried_forward", "total"])


def settlement_modes_due(run_date: dt.date) -> list[str]:
    """Return the modes a scheduled run on ``run_date`` settles."""
    modes = [SettlementMode.T0, SettlementMode.T1, SettlementMode.TN]
    if run_date.day == 1:
        modes.append(SettlementMode.MONTHLY)
    return modes


def settlement_run(
    *,
    run_date: dt.date,
    brand: Brand | None = None,
    modes: list[str] | None = None,
    dry_run: bool = False,
) -> SettlementRunResult:
    """Settle every entry that is due on ``run_date``.

    Closes the open T+1 and T+N settlements of periods up to ``run_date``
    (entries are due ``hold_days`` after their business date) and, for
    monthly, of months before ``run_date``'s month; entries arriving later for
    a closed period go in the next open one. A T+0 entry left over by a lost
    task is settled the same day. Entries whose task was lost are written
    first (see ``commission_entries_catch_up``). Closing a period twice writes
    nothing; ``dry_run`` does the same work and rolls it back.
    """
    modes = modes or settlement_modes_due(run_date)
    brand_ids = [brand.pk] if brand else list(Brand.objects.values_list("pk", flat=True))
    params = {"brand_id": brand.pk if brand else None, "now": timezone.now()}
    closing = []
    daily = [m for m in modes if m in (SettlementMode.T1, SettlementMode.TN)]
    if daily:
        closing.append((daily, run_date))
    if SettlementMode.MONTHLY in modes:
        closing.append(([SettlementMode.MONTHLY], month_bounds(run_date)[0] - dt.timedelta(days=1)))
    with transaction.atomic():
        tokens = []
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SETTLEMENT_RUN_LOCK_KEY])
                cursor.execute(f"SET LOCAL work_mem = '{BULK_WORK_MEM}'")
                # Fresh statistics after a sale day's entries were written, so
                # that finding the few entries without a settlement uses the
                # partial index rather than a scan of the day.
                cursor.execute(f"ANALYZE {sql.T['entry']}")
            _cutoffs_lock(cursor, brand_ids=brand_ids, for_update=True)
            commission_entries_catch_up(
                since=run_date - dt.timedelta(days=ENTRY_CATCH_UP_DAYS), until=run_date, brand=brand
            )
            if closing:
                run_token = uuid.uuid4().hex
                for close_modes, through in closing:
                    _close_open_settlements(
                        cursor, modes=close_modes, through=through, brand_ids=brand_ids,
                        params={**params, "run_token": run_token},
                    )  # fmt: skip
                _carry_forward(run_token=run_token)
                tokens.append(run_token)
        if SettlementMode.T0 in modes:
            by_brand = " AND e.brand_id = %(brand_id)s" if brand else ""
            tokens.append(
                _settle(
                    entry_filter=f"e.mode = 'T0' AND e.business_date <= %(run_date)s{by_brand}",
                    params={**params, "run_date": run_date},
                    period_start=run_date,
                    period_end=run_date,
                )
            )
        count, entry_count, total = _run_summary(tokens)
        preview = ()
        if dry_run:
            preview = tuple(
                (s.beneficiary, s.guide.employee_no if s.guide else s.store.code, s.brand.code,
                 s.mode, s.period_start, s.period_end, s.entry_count, s.total)
                for s in _settlements_of(tokens)
            )  # fmt: skip
            transaction.set_rollback(True)
    return SettlementRunResult(
        run_date=run_date,
        run_tokens=tuple(tokens),
        settlement_count=count,
        entry_count=entry_count,
        total=total,
        dry_run=dry_run,
        preview=preview,
    )


def _settlements_of(tokens: list[str]):
    from django.db.models import Count

    return (
        Settlement.objects.filter(run_token__in=tokens)
        .select_related("guide", "store", "brand")
        .annotate(entry_count=Count("entries"))
        .order_by("pk")
    )


def settlement_settle_t0(*, order_id: int) -> list[Settlement]:
    """Settle the T+0 entries of an order and of each of its refunds at once."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        return []
    sources: list[tuple[str, dt.date, str, dict]] = [
        (f"order:{order.order_no}", order.business_date, "e.refund_id IS NULL", {})
    ]
    for refund in order.refunds.order_by("pk"):
        sources.append(
            (f"refund:{refund.refund_no}", refund.business_date, "e.refund_id = %(refund_id)s",
             {"refund_id": refund.pk})
        )  # fmt: skip
    tokens = []
    with transaction.atomic():
        for source_ref, business_date, condition, extra in sources:
            tokens.append(
                _settle(
                    entry_filter=f"e.order_id = %(order_id)s AND e.mode = 'T0' AND {condition}",
                    params={"order_id": order_id, **extra},
                    period_start=business_date,
                    period_end=business_date,
                    source_ref=source_ref,
                )
            )
    return list(_settlements_of(tokens))


def _settle_t0_orders(*, order_ids: list[int]) -> str:
    """Settle the unsettled T+0 entries of orders (not refunds), each order on its own.

    Writes what ``settlement_settle_t0`` writes for each of them, in one run
    of set-based statements. Runs in the caller's transaction; returns the
    run token.
    """
    if not order_ids:
        return ""
    # Integers from the database, rendered inline (see commission_entries_write).
    order_filter = f"o.id IN ({', '.join(str(int(i)) for i in order_ids)})"
    run_token = uuid.uuid4().hex
    _settle_with(
        inserts=[
            sql.INSERT_T0_ORDER_SETTLEMENTS[kind].format(order_filter=order_filter)
            for kind in KINDS
        ],
        claims=[
            sql.CLAIM_T0_ORDER_ENTRIES[kind].format(order_filter=order_filter) for kind in KINDS
        ],
        params={"run_token": run_token, "now": timezone.now()},
    )
    return run_token


# A worker writing a new order's entries takes along up to this many orders
# received after it that have none yet: in a sale's rush one set-based run
# costs about what one order's does, and their own messages then find nothing
# to do. It looks this many order ids ahead, which bounds the scan.
ENTRY_BACKLOG_BATCH = 100
ENTRY_BACKLOG_ID_WINDOW = 2_000
# A coalesced run (settings.TASK_COALESCING) starts this many ids before the
# order that queued it: an order given a lower id may commit after that one,
# find the run queued and count on it. It writes at most this many batches,
# then queues its successor rather than hold a worker.
ENTRY_WAITING_LOOKBEHIND_IDS = 1_000
ENTRY_WAITING_MAX_BATCHES = 50
# Set while a coalesced run is queued (apps.core.tasking.task_queue_coalesced).
ENTRY_WAITING_KEY = "commissions:entries-waiting-queued"
# The order id through which the last finished run left no order waiting; kept
# a day (the settlement run's catch-up covers anything older).
ENTRY_WAITING_DONE_KEY = "commissions:entries-waiting-done-through"
ENTRY_WAITING_DONE_SECONDS = 24 * 3600


def _order_work_outstanding(order_id: int) -> tuple[bool, bool]:
    """Return (whether the order has entries, whether anything of it is left to write or settle)."""
    entries = CommissionEntry.objects.filter(order_id=order_id)
    has_entries = entries.filter(refund__isnull=True).exists()
    if not has_entries:
        return False, True
    refund_missing = (
        Refund.objects.filter(order_id=order_id)
        .exclude(pk__in=entries.filter(refund__isnull=False).values("refund_id"))
        .exists()
    )
    t0_unsettled = entries.filter(mode=SettlementMode.T0, settlement__isnull=True).exists()
    return True, refund_missing or t0_unsettled


def _orders_without_entries(*, after_id: int, up_to_id: int | None = None):
    """Orders with ids above ``after_id`` that have no entry, locked with SKIP LOCKED, by id."""
    orders = Order.objects.filter(pk__gt=after_id)
    if up_to_id is not None:
        orders = orders.filter(pk__lte=up_to_id)
    return (
        orders.exclude(Exists(CommissionEntry.objects.filter(order_id=OuterRef("pk"))))
        .order_by("pk")
        .select_for_update(no_key=True, skip_locked=True)
        .values_list("pk", flat=True)
    )


def _new_orders_write_and_settle(order_ids: list[int]) -> int:
    """Write the entries of orders that have none and settle the T+0 ones; return rows written."""
    written = commission_entries_write(order_ids=order_ids)
    refunded = set(
        Refund.objects.filter(order_id__in=order_ids).values_list("order_id", flat=True).distinct()
    )
    _settle_t0_orders(order_ids=[pk for pk in order_ids if pk not in refunded])
    for refunded_order_id in sorted(refunded):
        settlement_settle_t0(order_id=refunded_order_id)
    return written


@transaction.atomic
def commission_entries_write_with_backlog(*, order_id: int) -> int:
    """Write an order's missing entries and settle its T+0 ones, with a batch of later orders.

    An order whose entries exist (a refund came, or an earlier batch took it)
    goes the single way: ``commission_entries_write`` then
    ``settlement_settle_t0``. A new one takes along the later orders (within
    ``ENTRY_BACKLOG_ID_WINDOW`` ids) that have no entries yet, locked with
    SKIP LOCKED so that workers take disjoint batches. Idempotent: once an
    order's work is done, its message only checks. Returns rows written.
    """
    locked = (
        Order.objects.select_for_update(no_key=True).filter(pk=order_id).values_list("pk").first()
    )
    if locked is None:
        logger.error("commission entries: dropping unknown order id %s", order_id)
        return 0
    has_entries, outstanding = _order_work_outstanding(order_id)
    if not outstanding:
        return 0
    if has_entries:
        written = commission_entries_write(order_id=order_id)
        settlement_settle_t0(order_id=order_id)
        return written
    later = _orders_without_entries(after_id=order_id, up_to_id=order_id + ENTRY_BACKLOG_ID_WINDOW)[
        : ENTRY_BACKLOG_BATCH - 1
    ]
    return _new_orders_write_and_settle([order_id, *later])


def commission_entries_write_waiting(*, from_order_id: int) -> int:
    """Write and settle the entries of the orders from about ``from_order_id`` on that have none.

    The entry point of a coalesced run: one run serves all the orders
    committed before it started, in batches that commit on their own.
    Returns rows written.
    """
    from apps.commissions.tasks import commission_entries_write_waiting_task

    # Start where the last finished run left off, if that is further back: the
    # orders of a run whose message was lost are then made up for by the next.
    done_through = cache.get(ENTRY_WAITING_DONE_KEY)
    if done_through is not None:
        from_order_id = min(from_order_id, done_through + 1)
    after_id = from_order_id - ENTRY_WAITING_LOOKBEHIND_IDS - 1
    written = 0
    for _batch in range(ENTRY_WAITING_MAX_BATCHES):
        with transaction.atomic():
            batch = list(_orders_without_entries(after_id=after_id)[:ENTRY_BACKLOG_BATCH])
            if not batch:
                cache.set(ENTRY_WAITING_DONE_KEY, after_id, timeout=ENTRY_WAITING_DONE_SECONDS)
                return written
            written += _new_orders_write_and_settle(batch)
        after_id = batch[-1]
    commission_entries_write_waiting_task.delay(after_id + ENTRY_WAITING_LOOKBEHIND_IDS + 1)
    return written


def settlement_mark_paid(*, settlement: Settlement, payout_ref: str) -> Settlement:
    """Record that HQ paid a settlement out."""
    if not payout_ref.strip():
        raise ValidationError({"payout_ref": _("Give the payout reference.")})
    with transaction.atomic():
        locked = Settlement.objects.select_for_update().get(pk=settlement.pk)
        if locked.status == Settlement.Status.PAID:
            if locked.payout_ref == payout_ref:
                return locked
            raise ValidationError({"status": _("This settlement is already paid.")})
        if locked.status == Settlement.Status.OPEN:
            raise ValidationError(
                {"status": _("This settlement is still open: it is paid once the run closes it.")}
            )
        if locked.total < 0:
            raise ValidationError(
                {"total": _("A negative settlement is not paid; it carries into the next one.")}
            )
        locked.status = Settlement.Status.PAID
        locked.payout_ref = payout_ref.strip()
        locked.paid_at = timezone.now()
        locked.save(update_fields=["status", "payout_ref", "paid_at"])
    return locked
