"""Report: the HQ commission report over millions of ledger entries loaded by COPY.

Loads ``--entries`` ledger lines spread over a year, five thousand stores in
twenty regions, three brands, a guide's and a store's line per synthetic
order, the older months held by settlements (one paid), straight into the
database (COPY on PostgreSQL), then times what ``GET
/api/v1/reports/commissions/`` runs (the grouped rows and the totals row) for
two reports: the year grouped by region with no filter, and one brand's month
grouped by store. Each query runs once to warm the cache, then ``--repeat``
times; the median is reported. Wipes the commissions tables and the bench's
stores first: it refuses a database whose name does not contain "bench"
unless given ``--force``.
"""

import datetime as dt
import random
import statistics
import time

from django.db import transaction

from apps.bench import settlement as settlement_bench
from apps.bench.common import analyze, bench_database_require, reporter, rows_insert
from apps.commissions.models import CommissionEntry, CommissionPlan, Settlement
from apps.commissions.reports import (
    Grouping,
    ReportFilters,
    commission_report_rows,
    report_with_totals,
)
from apps.core.scoping import Scope
from apps.stores.models import Region, Store

YEAR = 2026
REGIONS = 20
SETTLED_BEFORE = dt.date(YEAR, 12, 1)  # entries before this date are held by a settlement
PAID_BEFORE = dt.date(YEAR, 7, 1)  # and before this one by a paid settlement
COPY_BATCH = 200_000  # rows built in memory before they are copied


def add_arguments(parser):
    parser.add_argument("--entries", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    settlement_bench.add_master_data_arguments(parser)


def run(*, stdout, entries, stores, guides, repeat, seed, force, **_options) -> dict:
    bench_database_require(force=force, what="commission data")
    rng = random.Random(seed)

    say = reporter(stdout)
    say(f"setting up {stores} stores in {REGIONS} regions, {guides} guides")
    _wipe()
    brands, store_rows, guide_ids = settlement_bench.master_data_create(
        stores=stores, guides=guides
    )
    _spread_over_regions()
    started = time.perf_counter()
    _load_entries(rng, entries=entries, brands=brands, stores=store_rows, guide_ids=guide_ids)
    say(f"loaded {entries} entries in {time.perf_counter() - started:.1f}s")

    everything = Scope(everything=True)
    queries = {
        "year_by_region": ReportFilters(
            group_by=Grouping.REGION,
            date_from=dt.date(YEAR, 1, 1),
            date_to=dt.date(YEAR, 12, 31),
        ),
        "brand_month_by_store": ReportFilters(
            group_by=Grouping.STORE,
            date_from=dt.date(YEAR, 11, 1),
            date_to=dt.date(YEAR, 11, 30),
            brand_id=brands[0].pk,
        ),
    }
    timings = {}
    for name, filters in queries.items():
        runs = []
        for attempt in range(repeat + 1):
            started = time.perf_counter()
            rows, totals = report_with_totals(
                commission_report_rows(scope=everything, filters=filters)
            )
            if attempt:  # the first run warms the cache
                runs.append(time.perf_counter() - started)
        timings[name] = statistics.median(runs)
        say(
            f"{name}: {len(rows)} rows, {totals['entries']} entries, "
            f"¥{totals['amount']}, median {timings[name]:.2f}s of {repeat}"
        )
    return {
        "bench": "report",
        "entries": entries,
        "seconds": round(max(timings.values()), 2),
        **{f"{name}_seconds": round(value, 2) for name, value in timings.items()},
    }


def _wipe():
    bench_root = Region.objects.filter(code="BENCH").first()
    if bench_root is not None:
        Store.objects.filter(code__regex=settlement_bench.LEDGER_CODES).update(region=bench_root)
    Region.objects.filter(code__startswith="BENCH-").delete()
    settlement_bench.commission_data_wipe()


def _spread_over_regions():
    """Put the bench's stores into ``REGIONS`` small regions under the bench's root."""
    root = Region.objects.get(code="BENCH")
    regions = Region.objects.bulk_create(
        Region(code=f"BENCH-R{n:02d}", name=f"Bench region {n}", parent=root)
        for n in range(REGIONS)
    )
    store_ids = list(
        Store.objects.filter(code__regex=settlement_bench.LEDGER_CODES)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    with transaction.atomic():
        for n, region in enumerate(regions):
            Store.objects.filter(pk__in=store_ids[n::REGIONS]).update(region=region)


def _load_entries(rng, *, entries, brands, stores, guide_ids):
    """COPY ``entries`` ledger lines: a guide's and the store's line per synthetic order.

    The entries' references carry no database constraint (see the model), so
    the orders they name need not exist for the report, which never joins them.
    """
    plan_id = CommissionPlan.objects.values_list("pk", flat=True).first()
    store = Store.objects.get(pk=stores[0][0])
    held = {
        status: Settlement.objects.create(
            beneficiary="store", store=store, brand=brands[0], mode="MONTHLY",
            period_start=dt.date(YEAR, 1, 1), period_end=dt.date(YEAR, 11, 30),
            source_ref=status, status=status, payout_ref="BENCH" if status == "paid" else "",
            run_token="bench",  # noqa: S106 (not a password)
        ).pk
        for status in ("settled", "paid")
    }  # fmt: skip
    first_day = dt.date(YEAR, 1, 1)
    created_at = dt.datetime(YEAR + 1, 1, 1, tzinfo=dt.UTC)
    columns = (
        "order_id", "beneficiary", "guide_id", "store_id", "brand_id", "category",
        "business_date", "base_amount", "plan_id", "rate", "amount", "mode", "hold_days",
        "settlement_id", "created_at",
    )  # fmt: skip
    rows = []
    for i in range(entries):
        order_id = i // 2 + 1
        if i % 2 == 0:
            store_id, _kind = stores[rng.randrange(len(stores))]
            brand_id = brands[rng.randrange(len(brands))].pk
            business_date = first_day + dt.timedelta(days=rng.randrange(365))
            base_cents = rng.randrange(1_000, 200_000)
            guide_id = rng.choice(guide_ids[store_id])
            beneficiary, rate = "guide", 300
        else:
            guide_id, beneficiary, rate = None, "store", 500
        if business_date < PAID_BEFORE:
            settlement_id = held["paid"]
        elif business_date < SETTLED_BEFORE:
            settlement_id = held["settled"]
        else:
            settlement_id = None
        amount_cents = (base_cents * rate + 5_000) // 10_000  # half up
        rows.append(
            (order_id, beneficiary, guide_id, store_id, brand_id, "", business_date,
             _cents(base_cents), plan_id, _cents(rate), _cents(amount_cents),
             "T1", 1, settlement_id, created_at)
        )  # fmt: skip
        if len(rows) == COPY_BATCH:
            rows_insert(CommissionEntry, columns, rows)
            rows = []
    if rows:
        rows_insert(CommissionEntry, columns, rows)
    analyze(CommissionEntry)


def _cents(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"
