"""Settlement: write a sale day's ledger entries and settle it T+1, ours vs naive vs SQL floor.

Loads paid orders straight into the database (COPY on PostgreSQL), then
measures in one run: ours (the set-based services: entries of every order and
refund, then the T+1 settlement), the naive per-order ORM loop on a sample
(extrapolated), and a raw ``INSERT … SELECT`` of one entry per order as the
floor. Wipes the commissions tables and the bench's stores first: it refuses
a database whose name does not contain "bench" unless given ``--force``.
"""

import datetime as dt
import random
import time
import zoneinfo
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q

from apps.bench.common import analyze, bench_database_require, reporter, rows_insert
from apps.commissions import services
from apps.commissions.calculations import (
    PlanScope,
    clawback_cents,
    commission_amount,
    plan_choose,
)
from apps.commissions.models import (
    CommissionAdjustment,
    CommissionEntry,
    CommissionPlan,
    EntryKind,
    Order,
    OrderLine,
    Refund,
    Settlement,
    SettlementCutoff,
    SettlementTerms,
)
from apps.core.money import from_cents, quantize_money, to_cents
from apps.core.sql import SQL, render, sql_join, table
from apps.guides.models import Guide
from apps.incentives.models import (
    BonusAward,
    BonusMonthClose,
    BonusPlan,
    IncentivePolicy,
    PointsAccount,
    PointsMovement,
    SalesTarget,
)
from apps.stores.models import Brand, Region, Store

BUSINESS_DATE = dt.date(2026, 11, 11)
BRAND_CODES = ("BENCH-A", "BENCH-B", "BENCH-C")
CATEGORIES = ("", "apparel", "shoes")
GUIDES_PER_STORE = 4
REFUND_SHARE = 10  # one order in ten gets a partial refund
# The ledger benchmarks' stores and guides are BENCH-<digits>…; the assignment
# benchmark's (BENCH-S…, BENCH-G…) may share the database and are left alone.
LEDGER_CODES = r"^BENCH-[0-9]"


def add_master_data_arguments(parser):
    """The arguments of the stores, guides and seed every ledger benchmark builds."""
    parser.add_argument("--stores", type=int, default=5_000)
    parser.add_argument("--guides", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--force", action="store_true", help="wipe a non-bench database too")


def add_arguments(parser):
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=5_000, help="orders for the naive loop")
    add_master_data_arguments(parser)


def run(*, stdout, orders, stores, guides, sample, seed, force, **_options) -> dict:
    bench_database_require(force=force, what="commission data")
    rng = random.Random(seed)

    say = reporter(stdout)
    say(f"setting up {stores} stores, {guides} guides, {len(BRAND_CODES)} brands")
    commission_data_wipe()
    brands, store_rows, guide_ids = master_data_create(stores=stores, guides=guides)
    started = time.perf_counter()
    _load_orders(rng, orders=orders, brands=brands, stores=store_rows, guide_ids=guide_ids)
    say(f"loaded {orders} orders and their refunds in {time.perf_counter() - started:.1f}s")

    run_date = BUSINESS_DATE + dt.timedelta(days=1)
    sample = min(sample, orders)
    naive_sample_seconds = _naive(rng, sample=sample, run_date=run_date)
    naive_seconds = naive_sample_seconds * orders / sample
    say(f"naive per-order loop: {sample} orders in {naive_sample_seconds:.2f}s")

    floor_seconds = _floor()
    say(f"floor (INSERT … SELECT, one entry per order): {floor_seconds:.2f}s")

    started = time.perf_counter()
    written = services.commission_entries_write(business_date=BUSINESS_DATE)
    entries_seconds = time.perf_counter() - started
    result = services.settlement_run(run_date=run_date, modes=["T1", "TN"])
    seconds = time.perf_counter() - started
    say(
        f"ours: {written} entries in {entries_seconds:.2f}s, "
        f"{result.settlement_count} settlements, {seconds:.2f}s in all"
    )
    balanced = _balanced(rng, orders=orders, say=say)
    return {
        "bench": "settlement",
        "orders": orders,
        "seconds": round(seconds, 2),
        "naive_seconds": round(naive_seconds, 2),
        "floor_seconds": round(floor_seconds, 2),
        "speedup": round(naive_seconds / seconds, 1),
        "balanced": balanced,
    }


def commission_data_wipe():
    models = [
        # The incentives stand on the ledger and the bench's guides: first.
        BonusAward,
        BonusMonthClose,
        PointsMovement,
        PointsAccount,
        SalesTarget,
        BonusPlan,
        IncentivePolicy,
        CommissionEntry,
        CommissionAdjustment,
        Settlement,
        Refund,
        OrderLine,
        Order,
        CommissionPlan,
        SettlementTerms,
        # A previous run's cutoff would send this run's entries past its close.
        SettlementCutoff,
    ]
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    render(SQL("TRUNCATE {}").format(sql_join(", ", map(table, models))))
                )
        else:
            Settlement.objects.update(carried_from=None)
            for model in models:
                model.objects.all().delete()
        Guide.objects.filter(employee_no__regex=LEDGER_CODES).delete()
        Store.objects.filter(code__regex=LEDGER_CODES).delete()
        # ``bench report`` hangs its regions (BENCH-R…) under this one.
        Region.objects.filter(code__startswith="BENCH-").delete()
        Region.objects.filter(code="BENCH").delete()


def master_data_create(*, stores: int, guides: int):
    brands = [
        Brand.objects.get_or_create(code=code, defaults={"name": code})[0] for code in BRAND_CODES
    ]
    region = Region.objects.create(code="BENCH", name="Bench")
    kinds = [k for k, _label in Store.Kind.choices]
    Store.objects.bulk_create(
        (
            Store(code=f"BENCH-{i:06d}", name=f"Bench store {i}", kind=kinds[i % len(kinds)],
                  region=region, latitude=31.2, longitude=121.4)
            for i in range(stores)
        ),
        batch_size=10_000,
    )  # fmt: skip
    store_rows = list(
        Store.objects.filter(code__regex=LEDGER_CODES).order_by("pk").values_list("pk", "kind")
    )
    Through = Store.brands.through
    Through.objects.bulk_create(
        (Through(store_id=pk, brand_id=b.pk) for pk, _kind in store_rows for b in brands),
        batch_size=10_000,
    )
    per_store = max(1, guides // stores)
    Guide.objects.bulk_create(
        (
            Guide(employee_no=f"BENCH-{i:06d}-{j}", name=f"Guide {i}-{j}", store_id=pk)
            for i, (pk, _kind) in enumerate(store_rows)
            for j in range(per_store)
        ),
        batch_size=10_000,
    )
    guide_ids: dict[int, list[int]] = {}
    for pk, store_id in Guide.objects.filter(employee_no__regex=LEDGER_CODES).values_list(
        "pk", "store_id"
    ):
        guide_ids.setdefault(store_id, []).append(pk)
    # Plans of every specificity, so that precedence is exercised at scale.
    start = dt.date(2026, 1, 1)
    for n, brand in enumerate(brands):
        services.settlement_terms_set(brand=brand, mode="T1")
        plan = {"brand": brand, "valid_from": start}
        services.commission_plan_create(
            **plan, guide_rate=Decimal("2.00") + n, store_rate=Decimal("5.00")
        )
        services.commission_plan_create(
            **plan, category="shoes", guide_rate=Decimal("2.50"), store_rate=Decimal("5.50")
        )
        services.commission_plan_create(
            **plan, store_kind="franchise", guide_rate=Decimal("3.00"), store_rate=Decimal("7.00")
        )
        services.commission_plan_create(
            **plan, store_kind="franchise", category="apparel",
            guide_rate=Decimal("3.25"), store_rate=Decimal("7.25"),
        )  # fmt: skip
        for pk, _kind in store_rows[n :: max(1, len(store_rows) // 50)]:
            store = Store.objects.get(pk=pk)
            services.commission_plan_create(
                **plan, store=store, guide_rate=Decimal("4.00"), store_rate=Decimal("8.00")
            )
            services.commission_plan_create(
                **plan, store=store, category="apparel",
                guide_rate=Decimal("4.50"), store_rate=Decimal("8.50"),
            )  # fmt: skip
    return brands, store_rows, guide_ids


def _load_orders(rng, *, orders, brands, stores, guide_ids):
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    day_start = dt.datetime.combine(BUSINESS_DATE, dt.time(8), tzinfo=tz)
    now = dt.datetime.now(dt.UTC)
    order_rows, refund_specs = [], []
    for i in range(orders):
        store_id, _kind = stores[rng.randrange(len(stores))]
        brand = brands[i % len(brands)]
        guide = rng.choice(guide_ids[store_id]) if rng.random() < 0.8 else None
        amount = Decimal(rng.randrange(1_000, 200_000)) / 100
        paid_at = day_start + dt.timedelta(seconds=rng.randrange(12 * 3600))
        order_rows.append(
            (f"BENCH-{i:08d}", brand.pk, store_id, guide, "", amount, Decimal(0), paid_at,
             BUSINESS_DATE, False, guide, "order_guide" if guide else "none_no_membership", "bench",
             now)
        )  # fmt: skip
        if i % REFUND_SHARE == 0:
            refund = quantize_money(amount * Decimal("0.3"))
            refund_specs.append((i, refund, paid_at + dt.timedelta(hours=1)))
    columns = (
        "order_no", "brand_id", "store_id", "guide_id", "member_phone", "amount",
        "refunded_amount", "paid_at", "business_date", "has_lines", "attributed_guide_id",
        "attribution_reason", "request_hash", "created_at",
    )  # fmt: skip
    rows_insert(Order, columns, order_rows)
    ids = dict(
        Order.objects.filter(order_no__startswith="BENCH-").values_list("order_no", "pk").iterator()
    )
    refund_rows = [
        (f"BENCH-R{i:08d}", ids[f"BENCH-{i:08d}"], amount, refunded_at, BUSINESS_DATE, "bench", now)
        for i, amount, refunded_at in refund_specs
    ]
    rows_insert(
        Refund,
        ("refund_no", "order_id", "amount", "refunded_at", "business_date", "request_hash",
         "created_at"),
        refund_rows,
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            render(
                SQL(
                    "UPDATE {order} SET refunded_amount = r.amount "
                    "FROM {refund} r WHERE r.order_id = {order}.id"
                ).format(order=table(Order), refund=table(Refund))
            )
        )
    analyze()


def _naive_plan(*, brand_id: int, store: Store, category: str, business_date: dt.date):
    """The most specific plan valid on the date, asked of the ORM order by order."""
    return (
        CommissionPlan.objects.filter(
            Q(store__isnull=True) | Q(store=store),
            Q(store_kind="") | Q(store_kind=store.kind),
            Q(category="") | Q(category=category),
            Q(valid_to__isnull=True) | Q(valid_to__gte=business_date),
            brand_id=brand_id,
            valid_from__lte=business_date,
        )
        .order_by("-specificity", "-valid_from")
        .first()
    )


def _naive_terms(*, brand_id: int, store_id: int) -> tuple[str, int]:
    """(mode, hold_days) of a store and brand: the store's terms, the brand's, or T+1."""
    terms = (
        SettlementTerms.objects.filter(
            Q(store_id=store_id) | Q(store__isnull=True), brand_id=brand_id
        )
        .order_by(F("store_id").asc(nulls_last=True))
        .first()
    )
    return ("T1", 1) if terms is None else (terms.mode, terms.hold_days)


def _naive_clawback(original: Decimal, order: Decimal, refunded_before: Decimal, refund: Decimal):
    cents = clawback_cents(to_cents(original), to_cents(order), to_cents(refunded_before),
                           to_cents(refund))  # fmt: skip
    return from_cents(cents)


def _naive(rng, *, sample: int, run_date: dt.date) -> float:
    """Do the same work order by order through the ORM, timed, then roll it back."""
    order_ids = list(Order.objects.filter(business_date=BUSINESS_DATE).values_list("pk", flat=True))
    chosen = rng.sample(order_ids, sample)
    started = time.perf_counter()
    with transaction.atomic():
        for order_id in chosen:
            order = Order.objects.select_related("store").get(pk=order_id)
            plan = _naive_plan(
                brand_id=order.brand_id, store=order.store, category="",
                business_date=order.business_date,
            )  # fmt: skip
            if plan is None:
                continue
            mode, hold_days = _naive_terms(brand_id=order.brand_id, store_id=order.store_id)
            originals = []
            for beneficiary, guide_id, rate in (
                ("store", None, plan.store_rate),
                ("guide", order.attributed_guide_id, plan.guide_rate),
            ):
                if beneficiary == "guide" and guide_id is None:
                    continue
                originals.append(
                    CommissionEntry.objects.create(
                        order=order, beneficiary=beneficiary, guide_id=guide_id,
                        store_id=order.store_id, brand_id=order.brand_id,
                        business_date=order.business_date, base_amount=order.amount, rate=rate,
                        plan=plan, amount=commission_amount(order.amount, rate), mode=mode,
                        hold_days=hold_days, created_at=order.created_at,
                    )
                )  # fmt: skip
            written = list(originals)
            refunded = Decimal(0)
            for refund in order.refunds.order_by("pk"):
                for entry in originals:
                    written.append(
                        CommissionEntry.objects.create(
                            kind=EntryKind.REFUND, order=order, refund=refund,
                            beneficiary=entry.beneficiary,
                            guide_id=entry.guide_id, store_id=entry.store_id,
                            brand_id=entry.brand_id, business_date=refund.business_date,
                            base_amount=-_naive_clawback(
                                order.amount, order.amount, refunded, refund.amount
                            ),
                            rate=entry.rate, plan=plan,
                            amount=-_naive_clawback(
                                entry.amount, order.amount, refunded, refund.amount
                            ),
                            mode=mode, hold_days=hold_days, created_at=order.created_at,
                        )
                    )  # fmt: skip
                refunded += refund.amount
            for entry in written:
                guide = Guide.objects.get(pk=entry.guide_id) if entry.guide_id else None
                settlement, _created = Settlement.objects.get_or_create(
                    beneficiary=entry.beneficiary, guide=guide,
                    store_id=guide.store_id if guide else entry.store_id, brand_id=entry.brand_id,
                    mode=mode, period_start=run_date, period_end=run_date, source_ref="",
                    defaults={"run_token": "naive"},
                )  # fmt: skip
                entry.settlement = settlement
                entry.save(update_fields=["settlement"])
                settlement.entries_total += entry.amount
                settlement.total = settlement.entries_total + settlement.carried_forward
                settlement.save(update_fields=["entries_total", "total"])
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed


def _floor() -> float:
    """Time one ``INSERT … SELECT`` of a single entry per order at a fixed rate, rolled back."""
    plan_id = CommissionPlan.objects.values_list("pk", flat=True).first()
    statement = SQL("""
        INSERT INTO {entry} (order_id, beneficiary, store_id, brand_id, category, business_date,
                             base_amount, rate, plan_id, amount, mode, hold_days, created_at)
        SELECT o.id, 'store', o.store_id, o.brand_id, '', o.business_date, o.amount, 5.00,
               %s, ROUND(o.amount * 0.05, 2), 'T1', 1, o.created_at
        FROM {order} o WHERE o.business_date = %s
    """).format(entry=table(CommissionEntry), order=table(Order))
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(render(statement), [plan_id, BUSINESS_DATE])
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed


_BAD_TOTALS = SQL("""
    SELECT COUNT(*) FROM {settlement} s
    LEFT JOIN (SELECT settlement_id, SUM(amount) AS total FROM {entry} GROUP BY settlement_id) e
        ON e.settlement_id = s.id
    WHERE s.entries_total <> COALESCE(e.total, 0) OR s.total <> s.entries_total + s.carried_forward
""")
_UNSETTLED = SQL("SELECT COUNT(*) FROM {entry} WHERE settlement_id IS NULL")
_BAD_ROUNDING = SQL(
    "SELECT COUNT(*) FROM {entry} WHERE refund_id IS NULL AND amount <> "
    "ROUND(base_amount * rate / 100, 2)"
)


def _count(statement: SQL) -> int:
    tables = {"entry": table(CommissionEntry), "settlement": table(Settlement)}
    with connection.cursor() as cursor:
        cursor.execute(render(statement.format(**tables)))
        return cursor.fetchone()[0]


def _balanced(rng, *, orders: int, say) -> bool:
    """Check totals against entries, entries against rates, and plan choice on a sample.

    Plans are chosen again by the reference rule (``calculations.plan_choose``).
    """
    bad_totals, unsettled = _count(_BAD_TOTALS), _count(_UNSETTLED)
    plans: dict[int, list[PlanScope]] = {}
    for plan in CommissionPlan.objects.all():
        plans.setdefault(plan.brand_id, []).append(
            PlanScope(plan.pk, plan.specificity, plan.valid_from, plan.valid_to, plan.store_id,
                      plan.store_kind, plan.category)
        )  # fmt: skip
    checked = bad_rates = 0
    originals = CommissionEntry.objects.filter(refund__isnull=True).select_related(
        "plan", "order__store"
    )
    ids = list(originals.values_list("pk", flat=True)[: max(2_000, orders // 100)])
    for entry_row in originals.filter(pk__in=rng.sample(ids, min(len(ids), 2_000))):
        order = entry_row.order
        expected_plan_id = plan_choose(
            plans[order.brand_id], store_id=order.store_id, store_kind=order.store.kind,
            category=entry_row.category, business_date=order.business_date,
        )  # fmt: skip
        plan = entry_row.plan
        rate = plan.guide_rate if entry_row.beneficiary == "guide" else plan.store_rate
        checked += 1
        if (
            entry_row.plan_id != expected_plan_id
            or entry_row.rate != rate
            or entry_row.amount != commission_amount(entry_row.base_amount, rate)
        ):
            bad_rates += 1
    bad_rounding = _count(_BAD_ROUNDING) if connection.vendor == "postgresql" else 0
    say(
        f"balanced check: {bad_totals} settlement totals off, {unsettled} entries unsettled, "
        f"{bad_rates}/{checked} sampled entries off their plan, {bad_rounding} entries off rate"
    )
    return bad_totals == 0 and unsettled == 0 and bad_rates == 0 and bad_rounding == 0
