"""Scope: the first page of members, entries and settlements as a region manager beside HQ.

Builds ``--stores`` stores in twenty small regions, five of them under one
large region whose manager therefore sees a quarter of the stores, then
loads ``--members`` members (one brand each, bound to a guide of their
store), ``--entries`` ledger lines and a monthly settlement per store
(COPY on PostgreSQL). Then it times ``GET /api/v1/members/``,
``/commission-entries/`` and ``/settlements/`` (first page, with its count)
through the API as HQ, as the region manager (scoped by region), and as the
same manager scoped the old way, by the list of their stores' ids; each
list is called once to warm up, then ``--calls`` times, and the median is
reported in milliseconds. Wipes the bench's stores and the commissions
tables first: it refuses a database whose name does not contain "bench"
unless given ``--force``.
"""

import datetime as dt
import random
import statistics
import time

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from apps.bench import report as report_bench
from apps.bench import settlement as settlement_bench
from apps.bench.common import analyze, bench_database_require, reporter, rows_insert
from apps.commissions.models import Settlement
from apps.commissions.sql import dialect
from apps.core import scoping
from apps.core.roles import Role, user_role_add
from apps.core.sql import SQL, render, table
from apps.customers.models import Customer, Membership
from apps.guides.scopes import user_scope
from apps.stores.models import Region, Store

MANAGED_REGIONS = 5  # of report_bench.REGIONS (20): a quarter of the stores
PHONE_PREFIX = "199"  # the bench's customers: 199 + eight digits
MANAGER = "bench-region-manager"
HQ = "bench-hq"
PERIODS = "periods"
CONCENTRATED = "concentrated"
LEDGERS = (PERIODS, CONCENTRATED)
RUN_TOKEN = "bench-scope"  # noqa: S105 (not a password)
LISTS = {
    "members": "/api/v1/members/",
    "entries": "/api/v1/commission-entries/",
    "settlements": "/api/v1/settlements/",
}


def add_arguments(parser):
    parser.add_argument("--stores", type=int, default=200_000)
    parser.add_argument("--guides", type=int, default=200_000)
    parser.add_argument("--members", type=int, default=2_000_000)
    parser.add_argument("--entries", type=int, default=2_000_000)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument(
        "--ledger",
        choices=LEDGERS,
        default=PERIODS,
        help="periods: entries in a settlement per beneficiary and period, as the runs write "
        "them (default); concentrated: the report bench's two settlements holding every "
        "settled entry plus an empty monthly one per store (the worst case for counting)",
    )
    parser.add_argument("--force", action="store_true", help="run on a database not named *bench*")


def run(
    *, stdout, stores, guides, members, entries, calls, seed, force, ledger=PERIODS, **_options
) -> dict:
    bench_database_require(force=force, what="stores, members and commission data")
    rng = random.Random(seed)
    say = reporter(stdout)
    started = time.perf_counter()
    say(f"setting up {stores} stores in {report_bench.REGIONS} regions, {guides} guides")
    _members_wipe()
    report_bench._wipe()
    brands, store_rows, guide_ids = settlement_bench.master_data_create(
        stores=stores, guides=guides
    )
    report_bench._spread_over_regions()
    large = _large_region()
    managed = Store.objects.filter(region__parent=large).count()
    say(f"the manager's region holds {managed} stores")
    _load_members(rng, members=members, brand_ids=[b.pk for b in brands], guide_ids=guide_ids)
    report_bench._load_entries(
        rng, entries=entries, brands=brands, stores=store_rows, guide_ids=guide_ids
    )
    if ledger == PERIODS:
        _spread_over_periods()
    else:
        _load_settlements(store_rows, brand_id=brands[0].pk)
        _held_totals()
    analyze()
    say(f"loaded {members} members, {entries} entries in {time.perf_counter() - started:.1f}s")

    manager, hq = _users(large)
    store_list_scope = scoping.Scope(
        store_ids=frozenset(Store.objects.filter(region__parent=large).values_list("pk", flat=True))
    )
    figures = {}
    for who, user, resolver in (
        ("hq", hq, user_scope),
        ("region", manager, user_scope),
        # Before: the manager's scope sent as the ids of all their stores.
        ("region_store_list", manager, lambda user: store_list_scope),
    ):
        scoping.scope_resolver_set(resolver)
        try:
            client = APIClient(HTTP_HOST="localhost")  # an ALLOWED_HOSTS default
            client.force_authenticate(user)
            for name, url in LISTS.items():
                figures[f"{who}_{name}_p50_ms"] = _p50_ms(client, url, calls=calls)
                say(f"{who} {name}: p50 {figures[f'{who}_{name}_p50_ms']} ms")
        finally:
            scoping.scope_resolver_set(user_scope)
    # The members hold the bench's stores (PROTECT): the other benches wipe those.
    _members_wipe()
    return {
        "bench": "scope",
        "stores": stores,
        "managed_stores": managed,
        "members": members,
        "entries": entries,
        "ledger": ledger,
        "settlements": Settlement.objects.count(),
        "open_settlements": Settlement.objects.filter(status=Settlement.Status.OPEN).count(),
        "calls": calls,
        **figures,
        "p50_ms": {
            name: {who: figures[f"{who}_{name}_p50_ms"] for who in ("region", "hq")}
            for name in LISTS
        },
    }


def _p50_ms(client, url: str, *, calls: int) -> float:
    runs = []
    for attempt in range(calls + 1):
        started = time.perf_counter()
        response = client.get(url)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"{url}: {response.status_code} {response.content[:300]!r}")
        if attempt:  # the first call warms the caches
            runs.append(elapsed)
    return round(statistics.median(runs) * 1000, 1)


def _large_region() -> Region:
    """Put the first ``MANAGED_REGIONS`` small regions under one large region."""
    root = Region.objects.get(code="BENCH")
    large = Region.objects.create(code="BENCH-LARGE", name="Bench large region", parent=root)
    small = Region.objects.filter(code__startswith="BENCH-R").order_by("code")
    Region.objects.filter(pk__in=[r.pk for r in small[:MANAGED_REGIONS]]).update(parent=large)
    return large


def _users(large: Region):
    User = get_user_model()
    manager, _created = User.objects.get_or_create(username=MANAGER, defaults={"is_staff": True})
    hq, _created = User.objects.get_or_create(username=HQ, defaults={"is_staff": True})
    user_role_add(manager, Role.REGION_MANAGER)
    user_role_add(hq, Role.HQ_OPS)
    large.managers.add(manager)
    return manager, hq


def _members_wipe() -> None:
    with transaction.atomic():
        # The small regions go back under the root, where report's wipe finds them.
        root = Region.objects.filter(code="BENCH").first()
        Region.objects.filter(parent__code="BENCH-LARGE").update(parent=root)
        # Plain DELETEs: the ORM's would load every member's id first (7 minutes
        # for 500,000); the bench writes no rows that refer to its members.
        members = SQL("DELETE FROM {} WHERE customer_id IN (SELECT id FROM {} WHERE phone LIKE %s)")
        customers = SQL("DELETE FROM {} WHERE phone LIKE %s")
        with connection.cursor() as cursor:
            cursor.execute(render(members.format(table(Membership), table(Customer))),
                           [f"{PHONE_PREFIX}%"])  # fmt: skip
            cursor.execute(render(customers.format(table(Customer))), [f"{PHONE_PREFIX}%"])


def _load_members(rng, *, members: int, brand_ids: list[int], guide_ids: dict) -> None:
    now = timezone.now()
    rows_insert(
        Customer, ("phone", "name", "created_at"),
        ((f"{PHONE_PREFIX}{n:08d}", "", now) for n in range(members)),
    )  # fmt: skip
    customer_ids = list(
        Customer.objects.filter(phone__startswith=PHONE_PREFIX)
        .order_by("phone")
        .values_list("pk", flat=True)
    )
    stores = list(guide_ids)
    columns = ("customer_id", "brand_id", "store_id", "guide_id", "assignment_status",
               "unassigned_reason", "source", "joined_at", "bound_at", "updated_at")  # fmt: skip

    def rows():
        for customer_id in customer_ids:
            store_id = stores[rng.randrange(len(stores))]
            joined = now - dt.timedelta(minutes=rng.randrange(525_600))
            yield (customer_id, rng.choice(brand_ids), store_id,
                   rng.choice(guide_ids[store_id]), Membership.Status.ASSIGNED, "",
                   Membership.Source.MINI_PROGRAM, joined, joined, now)  # fmt: skip

    rows_insert(Membership, columns, rows())


def _load_settlements(store_rows, *, brand_id: int) -> None:
    now = timezone.now()
    columns = ("beneficiary", "store_id", "brand_id", "mode", "period_start", "period_end",
               "source_ref", "entries_total", "carried_forward", "total", "status",
               "payout_ref", "run_token", "created_at")  # fmt: skip
    rows_insert(
        Settlement, columns,
        (("store", pk, brand_id, "MONTHLY", dt.date(2026, 10, 1), dt.date(2026, 10, 31), "",
          "100.00", "0.00", "100.00", "settled", "", "bench-scope", now)
         for pk, _kind in store_rows),
    )  # fmt: skip


# The report bench holds every settled entry in two settlements (``run_token``
# "bench"); here each entry goes in the settlement a run would have put it in:
# one per beneficiary, brand, mode and period (``period_columns``), closed
# with its stored count and totals, or open (totals 0) for the entries the
# report bench leaves unsettled.
_PERIOD_ENTRIES = """
    SELECT e.id, e.beneficiary, e.guide_id, e.store_id, e.brand_id, e.mode, e.amount,
           COALESCE(h.status, {open}) AS status, {periods}
    FROM {entry} e
    LEFT JOIN {settlement} h ON h.id = e.settlement_id
    LEFT JOIN {cutoff} c ON c.brand_id = e.brand_id AND c.mode = e.mode
"""
_PERIOD_SETTLEMENTS = """
INSERT INTO {settlement} (beneficiary, guide_id, store_id, brand_id, mode, period_start,
    period_end, source_ref, entries_total, entry_count, carried_forward, total, status,
    payout_ref, run_token, created_at)
SELECT x.beneficiary, x.guide_id, x.store_id, x.brand_id, x.mode, x.period_start, x.period_end,
    '', CASE WHEN x.status = {open} THEN 0 ELSE SUM(x.amount) END,
    CASE WHEN x.status = {open} THEN 0 ELSE COUNT(*) END, 0,
    CASE WHEN x.status = {open} THEN 0 ELSE SUM(x.amount) END, x.status,
    CASE WHEN x.status = {paid} THEN 'BENCH' ELSE '' END, %(run_token)s, %(now)s
FROM ({entries}) x
GROUP BY x.beneficiary, x.guide_id, x.store_id, x.brand_id, x.mode, x.period_start,
    x.period_end, x.status
"""
_PERIOD_CLAIM = """
UPDATE {entry} AS u SET settlement_id = s.id
FROM ({entries}) x, {settlement} s
WHERE u.id = x.id AND s.run_token = %(run_token)s AND s.beneficiary = x.beneficiary
  AND s.store_id = x.store_id AND COALESCE(s.guide_id, 0) = COALESCE(x.guide_id, 0)
  AND s.brand_id = x.brand_id AND s.mode = x.mode AND s.period_start = x.period_start
  AND s.period_end = x.period_end
"""
_HELD_DELETE = "DELETE FROM {settlement} WHERE run_token = 'bench'"
_HELD_TOTALS = """
UPDATE {settlement} SET
    entry_count = (SELECT COUNT(*) FROM {entry} e WHERE e.settlement_id = {settlement}.id),
    entries_total = COALESCE((SELECT SUM(e.amount) FROM {entry} e
                              WHERE e.settlement_id = {settlement}.id), 0),
    total = carried_forward + COALESCE((SELECT SUM(e.amount) FROM {entry} e
                                        WHERE e.settlement_id = {settlement}.id), 0)
WHERE run_token = 'bench'
"""


def _statement(text: str, **parts) -> str:
    names = {"open": dialect.OPEN, "paid": dialect.PAID, **dialect.T, **parts}
    return render(SQL(text).format(**names))


def _spread_over_periods() -> None:
    periods = dialect.period_columns(connection.vendor, "e.business_date", "e.mode", "e.hold_days")
    entries = SQL(_PERIOD_ENTRIES).format(open=dialect.OPEN, periods=periods, **dialect.T)
    params = {"run_token": RUN_TOKEN, "now": timezone.now()}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_statement(_PERIOD_SETTLEMENTS, entries=entries), params)
        cursor.execute(_statement(_PERIOD_CLAIM, entries=entries), params)
        cursor.execute(_statement(_HELD_DELETE))


def _held_totals() -> None:
    """Give the concentrated ledger's two settlements the count and totals a close writes."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_statement(_HELD_TOTALS))
