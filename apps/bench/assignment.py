"""Assign members to the nearest store and a guide, at 200,000 stores: ours vs PostgreSQL KNN.

Builds the data set in the configured database (codes prefixed ``BENCH-``,
replaced on every run), then measures in one run:

- ours: bulk assignment of every pending member to store and guide, written;
- anchor (PostgreSQL only): one ``UPDATE … SET store = (SELECT … ORDER BY
  ll_to_earth(…) <-> ll_to_earth(…) LIMIT 1)`` over a GiST index from the
  ``cube``/``earthdistance`` contrib extensions, store only, committed then undone;
- exactness: for a random sample, our store equals a brute-force haversine scan;
- single_p50_ms: the median time of one member through the task body.
"""

import statistics
import time
from datetime import UTC, datetime

import numpy as np
from celery import current_app
from django.db import connection, transaction

from apps.bench.common import analyze, rows_insert
from apps.core.sql import SQL, render, table
from apps.core.tasking import BROKER_ERRORS
from apps.customers.models import AssignmentEvent, Customer, Membership
from apps.customers.nearest import TIE_KM, haversine_km
from apps.customers.services import memberships_assign_pending
from apps.customers.store_index import store_index_forget
from apps.customers.tasks import membership_assign_task
from apps.guides.models import Guide
from apps.stores.models import Brand, Store
from apps.stores.services import store_network_changed

BENCH_BRAND = "BENCH"
# Real city centres (WGS-84) around which most stores and members cluster.
CITY_CENTRES = np.array([
    (31.23, 121.47), (39.90, 116.40), (23.13, 113.26), (22.54, 114.06), (30.57, 104.07),
    (29.56, 106.55), (30.27, 120.16), (32.06, 118.80), (34.26, 108.94), (30.59, 114.31),
    (28.23, 112.94), (36.07, 120.38), (38.04, 114.51), (34.75, 113.63), (41.80, 123.43),
    (45.80, 126.53), (43.82, 125.32), (36.65, 117.12), (26.07, 119.30), (24.48, 118.09),
    (25.04, 102.71), (26.65, 106.63), (22.82, 108.37), (20.04, 110.34), (36.06, 103.83),
    (43.83, 87.62), (29.65, 91.13), (37.87, 112.55), (40.84, 111.75), (38.49, 106.23),
    (31.82, 117.23), (28.68, 115.86), (39.08, 117.20), (31.30, 120.59), (29.87, 121.55),
])  # fmt: skip
CLUSTERED_SHARE = 0.75


def add_arguments(parser):
    parser.add_argument("--stores", type=int, default=200_000)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--guides-per-store", type=int, default=4)
    parser.add_argument("--exact-sample", type=int, default=1_000)
    parser.add_argument("--single", type=int, default=200, help="members timed one by one")
    parser.add_argument("--seed", type=int, default=2026)


def _points(rng, count):
    clustered = int(count * CLUSTERED_SHARE)
    centres = CITY_CENTRES[rng.integers(0, len(CITY_CENTRES), clustered)]
    spread = rng.normal(0.0, 0.25, (clustered, 2))
    lat = np.concatenate([centres[:, 0] + spread[:, 0], rng.uniform(21.0, 45.0, count - clustered)])
    lng = np.concatenate(
        [centres[:, 1] + spread[:, 1], rng.uniform(98.0, 123.0, count - clustered)]
    )
    order = rng.permutation(count)
    return np.round(lat[order], 6), np.round(lng[order], 6)


def _clear_previous_run():
    """Delete the previous run's rows with set-based statements (the ORM's cascade is slow)."""
    brand = Brand.objects.filter(code=BENCH_BRAND).first()
    if brand is None:
        return
    tables = {
        "event": table(AssignmentEvent),
        "membership": table(Membership),
        "customer": table(Customer),
        "guide": table(Guide),
        "store_brand": table(Store.brands.through),
        "store": table(Store),
    }
    statements = [
        "DELETE FROM {event} WHERE membership_id IN "
        "(SELECT id FROM {membership} WHERE brand_id = %(brand)s)",
        "DELETE FROM {membership} WHERE brand_id = %(brand)s",
        "DELETE FROM {customer} c WHERE c.phone LIKE '170%%' AND NOT EXISTS "
        "(SELECT 1 FROM {membership} m WHERE m.customer_id = c.id)",
        "DELETE FROM {guide} WHERE store_id IN (SELECT id FROM {store} WHERE code LIKE 'BENCH-%%')",
        "DELETE FROM {store_brand} WHERE store_id IN "
        "(SELECT id FROM {store} WHERE code LIKE 'BENCH-%%')",
        "DELETE FROM {store} WHERE code LIKE 'BENCH-%%'",
    ]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(render(SQL(statement).format(**tables)), {"brand": brand.pk})


def _build(rng, *, stores, members, guides_per_store, stdout):
    started = time.perf_counter()
    _clear_previous_run()
    brand, _created = Brand.objects.get_or_create(code=BENCH_BRAND, defaults={"name": "Bench"})
    now = datetime.now(UTC)
    lat, lng = _points(rng, stores)
    rows_insert(
        Store,
        ["code", "name", "kind", "address", "city", "latitude", "longitude", "is_active",
         "created_at", "updated_at"],
        ((f"BENCH-S{i:07d}", f"Bench store {i}", "direct", "", "", float(lat[i]), float(lng[i]),
          True, now, now) for i in range(stores)),
    )  # fmt: skip
    store_ids = list(
        Store.objects.filter(code__startswith="BENCH-S").order_by("pk").values_list("pk", flat=True)
    )
    rows_insert(Store.brands.through, ["store_id", "brand_id"], ((s, brand.pk) for s in store_ids))
    rows_insert(
        Guide,
        ["employee_no", "name", "phone", "store_id", "role", "is_active", "created_at",
         "updated_at"],
        ((f"BENCH-G{s}-{g}", f"Guide {s}-{g}", "", s, "guide", True, now, now)
         for s in store_ids for g in range(guides_per_store)),
    )  # fmt: skip
    _members_add(rng, brand=brand, count=members, first_number=0, now=now)
    store_network_changed()
    analyze()
    stdout.write(
        f"built {stores} stores, {members} members in {time.perf_counter() - started:.1f} s"
    )
    return brand


def _members_add(rng, *, brand, count, first_number, now):
    lat, lng = _points(rng, count)
    rows_insert(
        Customer,
        ["phone", "name", "created_at"],
        ((f"170{first_number + i:08d}", "", now) for i in range(count)),
    )
    customer_ids = list(
        Customer.objects.filter(
            phone__gte=f"170{first_number:08d}", phone__lte=f"170{first_number + count - 1:08d}"
        )
        .order_by("phone")
        .values_list("pk", flat=True)
    )
    rows_insert(
        Membership,
        ["customer_id", "brand_id", "assignment_status", "unassigned_reason", "latitude",
         "longitude", "source", "joined_at", "updated_at"],
        ((c, brand.pk, "pending", "", float(lat[i]), float(lng[i]), "import", now, now)
         for i, c in enumerate(customer_ids)),
    )  # fmt: skip
    return customer_ids


_ANCHOR_SETUP = (
    "CREATE EXTENSION IF NOT EXISTS cube",
    "CREATE EXTENSION IF NOT EXISTS earthdistance",
    # A schema-qualified wrapper survives dump/restore, unlike an index on
    # ll_to_earth itself (its body resolves names through search_path).
    "CREATE OR REPLACE FUNCTION public.bench_ll_to_earth(float8, float8) "
    "RETURNS public.earth LANGUAGE sql IMMUTABLE PARALLEL SAFE "
    "AS 'SELECT public.ll_to_earth($1, $2)'",
    "CREATE INDEX IF NOT EXISTS bench_store_earth_gist ON {store} "
    "USING gist (public.bench_ll_to_earth(latitude, longitude))",
    "ANALYZE {store}",
)
_ANCHOR_ASSIGN = """
    UPDATE {membership} AS m
    SET store_id = (
        SELECT s.id FROM {store} AS s
        WHERE s.is_active
        ORDER BY public.bench_ll_to_earth(s.latitude, s.longitude)
             <-> public.bench_ll_to_earth(m.latitude, m.longitude)
        LIMIT 1
    )
    WHERE m.brand_id = %s AND m.assignment_status = 'pending'
"""
_ANCHOR_UNDO = (
    "UPDATE {membership} SET store_id = NULL WHERE brand_id = %s",
    "DROP INDEX IF EXISTS bench_store_earth_gist",
    "VACUUM ANALYZE {membership}",
)


def _anchor_seconds(brand) -> float | None:
    """Time PostgreSQL's own KNN assignment (store only, committed), then undo it."""
    if connection.vendor != "postgresql":
        return None
    tables = {"store": table(Store), "membership": table(Membership)}

    def statement(text: str) -> str:
        return render(SQL(text).format(**tables))

    with connection.cursor() as cursor:
        for setup in _ANCHOR_SETUP:
            cursor.execute(statement(setup))
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement(_ANCHOR_ASSIGN), [brand.pk])
    seconds = time.perf_counter() - started  # committed, as ours is
    with connection.cursor() as cursor:
        for undo in _ANCHOR_UNDO:
            cursor.execute(statement(undo), [brand.pk] if "%s" in undo else None)
    return seconds


def _exact(rng, brand, sample) -> bool:
    stores = list(
        Store.objects.filter(is_active=True, brands=brand)
        .order_by("code")
        .values_list("pk", "code", "latitude", "longitude", "service_radius_km")
    )
    ids = np.array([s[0] for s in stores])
    lats = np.array([s[2] for s in stores])
    lngs = np.array([s[3] for s in stores])
    reach = brand.max_assign_km or np.inf
    radii = np.array([min(np.inf if s[4] is None else s[4], reach) for s in stores])
    assigned = list(
        Membership.objects.filter(brand=brand, latitude__isnull=False).values_list(
            "pk", "latitude", "longitude", "store_id"
        )
    )
    picks = rng.choice(len(assigned), size=min(sample, len(assigned)), replace=False)
    for pick in picks:
        _pk, lat, lng, store_id = assigned[pick]
        km = np.where((d := haversine_km(lat, lng, lats, lngs)) <= radii, d, np.inf)
        best = km.min()
        if not np.isfinite(best):
            expected = None
        else:
            # Stores are in code order, so the first tied store has the lowest code.
            expected = int(ids[np.nonzero(km <= best + TIE_KM)[0][0]])
        if expected != store_id:
            return False
    return True


def _task_client_warm() -> None:
    """Load the task registry and open a broker connection, as a running worker has them.

    The assignment queues follow-up messages on commit (re-attribution of the
    members' orders). The first message a fresh process sends imports the
    broker client and every task module and runs Django's checks (about a
    second here): a start-up cost of this command, not of assigning.
    """
    current_app.loader.import_default_modules()
    try:
        with current_app.producer_pool.acquire(block=True) as producer:
            producer.connection.ensure_connection(max_retries=1)
    except BROKER_ERRORS:
        pass  # the messages then go to the outbox, inside the timing


def run(*, stdout, stores, members, guides_per_store, exact_sample, single, seed, **_options):
    rng = np.random.default_rng(seed)
    brand = _build(rng, stores=stores, members=members, guides_per_store=guides_per_store,
                   stdout=stdout)  # fmt: skip

    anchor = _anchor_seconds(brand)
    if anchor is not None:
        stdout.write(f"anchor (PostgreSQL KNN, store only): {anchor:.2f} s")

    _task_client_warm()
    store_index_forget()  # ours pays for loading the store index too
    started = time.perf_counter()
    assigned = memberships_assign_pending()
    seconds = time.perf_counter() - started
    stdout.write(f"ours (store and guide, written): {assigned} members in {seconds:.2f} s")

    exact = _exact(rng, brand, exact_sample)
    stdout.write(f"exact on {exact_sample} sampled members: {exact}")

    extra_ids = Membership.objects.filter(
        customer_id__in=_members_add(
            rng, brand=brand, count=single, first_number=members, now=datetime.now(UTC)
        )
    ).values_list("pk", flat=True)
    timings = []
    for membership_id in list(extra_ids):
        started = time.perf_counter()
        membership_assign_task.run(membership_id)
        timings.append((time.perf_counter() - started) * 1000)
    single_p50 = statistics.median(timings)
    stdout.write(f"single assignment through the task body: p50 {single_p50:.2f} ms")

    return {
        "bench": "assignment",
        "stores": stores,
        "members": members,
        "seconds": round(seconds, 3),
        "anchor_seconds": None if anchor is None else round(anchor, 3),
        "speedup": None if anchor is None else round(anchor / seconds, 2),
        "exact": exact,
        "single_p50_ms": round(single_p50, 2),
    }
