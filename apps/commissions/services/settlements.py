"""Writes of settlements: the scheduled runs that close periods, T+0 at once, and payouts."""

import datetime as dt
import logging
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.commissions.calculations import month_bounds
from apps.commissions.models import (
    CommissionEntry,
    Order,
    Settlement,
    SettlementCutoff,
    SettlementMode,
)
from apps.commissions.outbound_events import settlements_event_record
from apps.commissions.services.entries import (
    ENTRY_CATCH_UP_DAYS,
    bulk_statement_settings,
    commission_entries_catch_up,
    cutoffs_lock,
)
from apps.commissions.sql import settlements as settlement_sql
from apps.commissions.sql.dialect import SIDES, T
from apps.core.db import ANALYZE_AFTER_ROWS, tables_analyze
from apps.core.models import WebhookEventType
from apps.core.money import money_from_db
from apps.core.sql import SQL, list_param, render
from apps.stores.models import Brand

logger = logging.getLogger(__name__)

# Key of the PostgreSQL advisory lock held by scheduled settlement runs: two
# beat processes, or a manual run during the nightly one, queue up behind it.
SETTLEMENT_RUN_LOCK_KEY = 4_104_202_611


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


def _settlements_of(tokens: list[str]):
    return (
        Settlement.objects.filter(run_token__in=tokens)
        .select_related("guide", "store", "brand")
        .order_by("pk")
    )


def _run_summary(tokens: list[str]) -> tuple[int, int, Decimal]:
    summary = Settlement.objects.filter(run_token__in=tokens).aggregate(
        count=Count("pk"), total=Sum("total")
    )
    entries = CommissionEntry.objects.filter(settlement__run_token__in=tokens).count()
    return summary["count"], entries, money_from_db(summary["total"])


def _carry_forward_link(*, run_token: str) -> None:
    """Link each new settlement to its beneficiary's unsettled negative balance, if any.

    Only links (``carried_from``): ``UPDATE_TOTALS`` then carries the amount.
    """
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
        target.save(update_fields=["carried_from"])


def _settlements_finish(cursor, *, run_token: str) -> None:
    """Carry negative balances into this run's settlements, then sum their totals."""
    _carry_forward_link(run_token=run_token)
    cursor.execute(settlement_sql.UPDATE_TOTALS, {"run_token": run_token})
    settlements_event_record(
        WebhookEventType.SETTLEMENT_CLOSED, Settlement.objects.filter(run_token=run_token)
    )


def _settle(
    *,
    which: str,
    params: dict,
    period_start: dt.date | None = None,
    period_end: dt.date | None = None,
    source_ref: str = "",
    by_brand: bool = False,
) -> str:
    """Settle the unsettled entries ``which`` selects in new settlements (T+0).

    Serves T+0 (one order's or refund's entries, or many orders' each on its
    own) and T+0 entries a lost task left behind. Runs in the caller's
    transaction: either every settlement is written with its entries claimed
    and totals summed, or nothing is. Returns the run token.
    """
    vendor = connection.vendor
    run_token = uuid.uuid4().hex
    params = {
        **params,
        "period_start": period_start,
        "period_end": period_end,
        "source_ref": source_ref,
        "run_token": run_token,
        "now": timezone.now(),
    }
    with connection.cursor() as cursor:
        for side in SIDES:
            cursor.execute(
                settlement_sql.insert_settlements(vendor, side, which, by_brand=by_brand), params
            )
        with _hash_joins_only(cursor, which == settlement_sql.T0_OF_ORDERS):
            for side in SIDES:
                cursor.execute(
                    settlement_sql.claim_entries(vendor, side, which, by_brand=by_brand), params
                )
        cursor.execute(settlement_sql.DELETE_EMPTY_RUN_SETTLEMENTS, params)
        _settlements_finish(cursor, run_token=run_token)
    return run_token


@contextmanager
def _hash_joins_only(cursor, wanted: bool):
    """Plan the statements inside without nested loops (PostgreSQL), then as before.

    A batch's per-order claim joins hundreds of entries to settlements
    written moments before, which the planner's statistics do not know of:
    it guesses one row and loops over the batch's settlements for each entry
    (a quarter of a second for 500 orders); hash joins read each side once.
    """
    if not wanted or connection.vendor != "postgresql":
        yield
        return
    cursor.execute("SELECT current_setting('enable_nestloop')")
    (previous,) = cursor.fetchone()
    cursor.execute("SELECT set_config('enable_nestloop', 'off', true)")
    yield
    cursor.execute("SELECT set_config('enable_nestloop', %s, true)", [previous])


def _close_due_settlements(
    cursor, *, modes: list[str], through: dt.date, brand_ids: list[int], params: dict
) -> None:
    """Close the open settlements of ``modes`` due by ``through`` and move the cutoff there.

    Entries written without a settlement (a writer raced another to open it,
    or they predate open settlements) are first put in theirs.
    """
    timer = _StepTimer(params["run_token"])
    vendor = connection.vendor
    by_brand = params.get("brand_id") is not None
    params = {**params, "modes": list_param(modes, vendor), "through": through}
    for statement in (
        settlement_sql.open_settlements_for_unsettled,
        settlement_sql.claim_unsettled_into_open,
    ):
        cursor.execute(statement(vendor, by_brand=by_brand), params)
    timer.step("late entries")
    SettlementCutoff.objects.filter(brand_id__in=brand_ids, mode__in=modes).filter(
        Q(closed_through__isnull=True) | Q(closed_through__lt=through)
    ).update(closed_through=through)
    for statement in (
        settlement_sql.delete_empty_due_settlements,
        settlement_sql.close_due_settlements,
    ):
        cursor.execute(statement(vendor, by_brand=by_brand), params)
    timer.step("close")


class _StepTimer:
    """Log how long each step of a settlement run takes (at DEBUG)."""

    def __init__(self, label: str):
        self.label, self.last = label, time.perf_counter()

    def step(self, name: str) -> None:
        now = time.perf_counter()
        logger.debug("settlement %s: %s %.3fs", self.label, name, now - self.last)
        self.last = now


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
    task is settled the same day. Orders whose re-attribution was lost are
    attributed again, and entries whose task was lost are written, first (see
    ``orders_attribution_catch_up``, ``commission_entries_catch_up``). Closing a period twice writes
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
    catch_up_since = run_date - dt.timedelta(days=ENTRY_CATCH_UP_DAYS)
    if not dry_run:
        # Before the run's transaction, each order in its own: re-attribution
        # locks the order and then the brand's cutoffs, as the entry workers
        # do, so it must not run under the run's exclusive cutoff lock (or
        # hold orders locked for the length of a run). A dry run skips it.
        # Imported here: re-attribution settles its T+0 entries with this
        # module's functions, and the run is its one caller below it.
        from apps.commissions.services.attribution import orders_attribution_catch_up

        orders_attribution_catch_up(since=catch_up_since, until=run_date, brand=brand)
    with transaction.atomic():
        tokens = []
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SETTLEMENT_RUN_LOCK_KEY])
                bulk_statement_settings(cursor)
                # Fresh statistics after a sale day's entries were written, so
                # that finding the few entries without a settlement uses the
                # partial index rather than a scan of the day.
                cursor.execute(render(SQL("ANALYZE {}").format(T["entry"])))
            cutoffs_lock(cursor, brand_ids=brand_ids, for_update=True)
            commission_entries_catch_up(since=catch_up_since, until=run_date, brand=brand)
            if closing:
                run_token = uuid.uuid4().hex
                for close_modes, through in closing:
                    _close_due_settlements(
                        cursor, modes=close_modes, through=through, brand_ids=brand_ids,
                        params={**params, "run_token": run_token},
                    )  # fmt: skip
                _settlements_finish(cursor, run_token=run_token)
                tokens.append(run_token)
        if SettlementMode.T0 in modes:
            tokens.append(
                _settle(
                    which=settlement_sql.T0_DUE,
                    params={**params, "run_date": run_date},
                    period_start=run_date,
                    period_end=run_date,
                    by_brand=brand is not None,
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


def settlement_settle_t0(*, order_id: int) -> list[Settlement]:
    """Settle the T+0 entries of an order and of each of its refunds at once."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        return []
    sources: list[tuple[str, dt.date, str, dict]] = [
        (f"order:{order.order_no}", order.business_date, settlement_sql.T0_OF_ORDER, {})
    ]
    for refund in order.refunds.order_by("pk"):
        sources.append(
            (f"refund:{refund.refund_no}", refund.business_date, settlement_sql.T0_OF_REFUND,
             {"refund_id": refund.pk})
        )  # fmt: skip
    tokens = []
    with transaction.atomic():
        for source_ref, business_date, which, extra in sources:
            tokens.append(
                _settle(
                    which=which,
                    params={"order_id": order_id, **extra},
                    period_start=business_date,
                    period_end=business_date,
                    source_ref=source_ref,
                )
            )
    return list(_settlements_of(tokens))


def settlement_settle_t0_orders(*, order_ids: list[int]) -> str:
    """Settle the unsettled T+0 entries of orders (not refunds), each order on its own.

    Writes what ``settlement_settle_t0`` writes for each of them, in one run
    of set-based statements. Runs in the caller's transaction; returns the
    run token.
    """
    if not order_ids:
        return ""
    return _settle(
        which=settlement_sql.T0_OF_ORDERS,
        params={"order_ids": list_param(order_ids, connection.vendor)},
    )


def settlement_settle_adjustment(*, adjustment_id: int, source_ref: str, business_date: dt.date):
    """Put an adjustment's entry in its settlement: its own at once (T+0), else the open one due.

    Runs in the caller's transaction, which wrote the entry.
    """
    vendor = connection.vendor
    params = {"adjustment_id": adjustment_id, "now": timezone.now()}
    _settle(
        which=settlement_sql.ADJUSTMENT_T0,
        params=params,
        period_start=business_date,
        period_end=business_date,
        source_ref=source_ref,
    )
    with connection.cursor() as cursor:
        for statement in (
            settlement_sql.open_settlements_for_unsettled,
            settlement_sql.claim_unsettled_into_open,
        ):
            cursor.execute(
                statement(vendor, by_brand=False, which=settlement_sql.ADJUSTMENT), params
            )


def settlement_settle_bonus_entries(*, brand_id: int, source_ref: str, business_date: dt.date):
    """Put a brand's unsettled bonus entries in their settlements, as an adjustment's is put.

    T+0 beneficiaries get a settlement of their own for the run at once
    (``source_ref`` names the run); the others' entries go in the open period
    they are due in, the first one still open. Runs in the caller's
    transaction, which wrote the entries.
    """
    vendor = connection.vendor
    params = {"brand_id": brand_id, "now": timezone.now()}
    _settle(
        which=settlement_sql.BONUS_T0,
        params=params,
        period_start=business_date,
        period_end=business_date,
        source_ref=source_ref,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            settlement_sql.open_settlements_for_unsettled(
                vendor, by_brand=False, which=settlement_sql.BONUS
            ),
            params,
        )
        if cursor.rowcount >= ANALYZE_AFTER_ROWS:
            # A month close opens thousands of periods at once: plan the claim with them.
            tables_analyze(Settlement)
        cursor.execute(
            settlement_sql.claim_unsettled_into_open(
                vendor, by_brand=False, which=settlement_sql.BONUS
            ),
            params,
        )


def settlement_mark_paid_check(*, settlement: Settlement, payout_ref: str) -> bool:
    """Validate marking ``settlement`` paid; return False if it is already paid with this ref."""
    if not payout_ref.strip():
        raise ValidationError({"payout_ref": _("Give the payout reference.")})
    if settlement.status == Settlement.Status.PAID:
        if settlement.payout_ref == payout_ref:
            return False
        raise ValidationError({"status": _("This settlement is already paid.")})
    if settlement.status == Settlement.Status.OPEN:
        raise ValidationError(
            {"status": _("This settlement is still open: it is paid once the run closes it.")}
        )
    if settlement.total < 0:
        raise ValidationError(
            {"total": _("A negative settlement is not paid; it carries into the next one.")}
        )
    return True


def settlement_mark_paid(*, settlement: Settlement, payout_ref: str) -> Settlement:
    """Record that HQ paid a settlement out."""
    with transaction.atomic():
        locked = Settlement.objects.select_for_update().get(pk=settlement.pk)
        if not settlement_mark_paid_check(settlement=locked, payout_ref=payout_ref):
            return locked
        locked.status = Settlement.Status.PAID
        locked.payout_ref = payout_ref.strip()
        locked.paid_at = timezone.now()
        locked.save(update_fields=["status", "payout_ref", "paid_at"])
        settlements_event_record(
            WebhookEventType.SETTLEMENT_PAID, Settlement.objects.filter(pk=locked.pk)
        )
    return locked
