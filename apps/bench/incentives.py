"""Incentives: the month close over millions of ledger entries, beside a per-target ORM loop.

Loads ``--guides`` guides in ``--stores`` stores, a target for every guide
and store, a guide plan on achievement (100–120 % at 1 %, above 120 % at 2 %,
capped) and a store plan on net sales, and ``--entries`` ledger lines of one
brand in one month (a guide's and the store's line per sale, 2 % of sales
partly refunded, half of those after the month), straight into the database
(COPY on PostgreSQL). Then times ``bonus_month_close`` (net sales,
brackets, one bonus award per target, entries, settlement, points) against
a naive loop over ``--sample`` targets (ORM sums per beneficiary, the plan
asked per target, rows saved one by one), rolled back and extrapolated to
every target. ``exact`` recomputes ``--check`` random beneficiaries' bonuses
from their entries in plain Python, independently of the close's code.
Wipes the commissions and incentives tables first: refuses a database whose
name does not contain "bench" unless given ``--force``.
"""

import datetime as dt
import random
import time
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from apps.bench import settlement as settlement_bench
from apps.bench.common import analyze, bench_database_require, reporter, rows_insert
from apps.commissions.models import CommissionEntry, CommissionPlan, Order
from apps.incentives import services
from apps.incentives.brackets import bonus_compute, brackets_parse
from apps.incentives.models import (
    BonusAward,
    BonusPlan,
    IncentivePolicy,
    PointsAccount,
    PointsMovement,
    SalesTarget,
)

MONTH = dt.date(2026, 3, 1)
MONTH_END = dt.date(2026, 3, 31)
RUN_DATE = dt.date(2026, 4, 8)
REFUND_EVERY = 50  # one sale in fifty is partly refunded
COPY_BATCH = 200_000
GUIDE_BRACKETS = [{"from": "100", "to": "120", "rate": "1"}, {"from": "120", "rate": "2"}]
GUIDE_CAP = Decimal("3000.00")
STORE_BRACKETS = [{"from": "20000", "to": "50000", "rate": "0.5"}, {"from": "50000", "rate": "1"}]
MEAN_SALE = Decimal("1000.00")


def add_arguments(parser):
    parser.add_argument("--entries", type=int, default=2_000_000)
    parser.add_argument("--sample", type=int, default=200, help="targets for the naive loop")
    parser.add_argument("--check", type=int, default=1_000, help="beneficiaries recomputed")
    settlement_bench.add_master_data_arguments(parser)


def run(*, stdout, entries, stores, guides, sample, check, seed, force, **_options) -> dict:
    bench_database_require(force=force, what="commission and incentive data")
    rng = random.Random(seed)
    say = reporter(stdout)
    say(f"setting up {stores} stores, {guides} guides")
    settlement_bench.commission_data_wipe()
    brands, _store_rows, guide_ids = settlement_bench.master_data_create(
        stores=stores, guides=guides
    )
    brand = brands[0]
    started = time.perf_counter()
    sales = entries // 2
    loaded = _load_entries(rng, sales=sales, brand=brand, guide_ids=guide_ids)
    targets = _load_targets(rng, brand=brand, sales=sales, guide_ids=guide_ids)
    _plans(brand)
    analyze()
    say(f"loaded {loaded} entries and {targets} targets in {time.perf_counter() - started:.1f}s")

    sample = min(sample, targets)
    naive_sample_seconds = _naive(rng, brand_id=brand.pk, sample=sample)
    naive_seconds = naive_sample_seconds * targets / sample
    say(f"naive per-target loop: {sample} targets in {naive_sample_seconds:.2f}s")

    started = time.perf_counter()
    result = services.bonus_month_close(brand_id=brand.pk, month=MONTH, run_date=RUN_DATE)
    seconds = time.perf_counter() - started
    say(
        f"month close: {result.awards} awards, {result.entries} bonus entries, "
        f"¥{result.total}, {result.point_movements} point movements in {seconds:.2f}s"
    )
    again = time.perf_counter()
    repeat = services.bonus_month_close(brand_id=brand.pk, month=MONTH, run_date=RUN_DATE)
    say(
        f"run again: {repeat.awards} new awards in {time.perf_counter() - again:.2f}s "
        "(nothing to write)"
    )
    exact = _exact(rng, brand_id=brand.pk, check=check)
    say(f"recomputed {min(check, targets)} bonuses from their entries: exact={exact}")
    return {
        "bench": "incentives",
        "guides": guides,
        "entries": loaded,
        "seconds": round(seconds, 2),
        "naive_seconds": round(naive_seconds, 1),
        "speedup": round(naive_seconds / seconds, 1) if seconds else None,
        "exact": exact,
    }


def _load_entries(rng, *, sales, brand, guide_ids) -> int:
    """COPY a guide's and the store's line per sale, and the clawbacks of the refunded ones.

    Only refunded sales get an order row: the close reads an order only to
    date a refund against its sale's month.
    """
    plan_id = CommissionPlan.objects.filter(brand=brand).values_list("pk", flat=True).first()
    created_at = dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
    stores = sorted(guide_ids)
    columns = (
        "order_id", "refund_id", "beneficiary", "guide_id", "store_id", "brand_id", "category",
        "business_date", "base_amount", "plan_id", "rate", "amount", "mode", "hold_days",
        "settlement_id", "created_at", "kind",
    )  # fmt: skip
    rows, orders, count = [], [], 0
    order_base = 10_000_000
    for i in range(sales):
        order_id = order_base + i
        store_id = stores[rng.randrange(len(stores))]
        guide_id = rng.choice(guide_ids[store_id])
        day = MONTH + dt.timedelta(days=rng.randrange(31))
        base = rng.randrange(10_000, 190_000)  # cents; mean ¥1,000
        for beneficiary, guide, rate in (("guide", guide_id, 300), ("store", None, 500)):
            rows.append(
                (order_id, None, beneficiary, guide, store_id, brand.pk, "", day, _yuan(base),
                 plan_id, _yuan(rate), _yuan(_half_up(base * rate, 10_000)),
                 "T1", 1, None, created_at, "order")
            )  # fmt: skip
        if i % REFUND_EVERY == 0:
            refund = base * 3 // 10
            refund_day = day + dt.timedelta(days=rng.randrange(1, 40))
            for beneficiary, guide, rate in (("guide", guide_id, 300), ("store", None, 500)):
                rows.append(
                    (order_id, order_id, beneficiary, guide, store_id, brand.pk, "", refund_day,
                     _yuan(-refund), plan_id, _yuan(rate),
                     _yuan(-_half_up(refund * rate, 10_000)), "T1", 1, None, created_at,
                     "refund")
                )  # fmt: skip
            orders.append(
                (order_id, f"BENCH-I{i:08d}", brand.pk, store_id, guide_id, "", _yuan(base),
                 _yuan(refund), dt.datetime.combine(day, dt.time(4), tzinfo=dt.UTC), day, False,
                 guide_id, "order_guide", "bench", created_at)
            )  # fmt: skip
        if len(rows) >= COPY_BATCH:
            rows_insert(CommissionEntry, columns, rows)
            count += len(rows)
            rows = []
    if rows:
        rows_insert(CommissionEntry, columns, rows)
        count += len(rows)
    rows_insert(
        Order,
        ("id", "order_no", "brand_id", "store_id", "guide_id", "member_phone", "amount",
         "refunded_amount", "paid_at", "business_date", "has_lines", "attributed_guide_id",
         "attribution_reason", "request_hash", "created_at"),
        orders,
    )  # fmt: skip
    return count


def _load_targets(rng, *, brand, sales, guide_ids) -> int:
    """A target for every guide and store, around what each is expected to sell (±40 %)."""
    guides = sum(len(ids) for ids in guide_ids.values())
    per_guide = MEAN_SALE * sales / guides
    per_store = MEAN_SALE * sales / len(guide_ids)
    now = timezone.now()
    rows = []
    for store_id, ids in guide_ids.items():
        for guide_id in ids:
            amount = (per_guide * Decimal(rng.uniform(0.6, 1.4))).quantize(Decimal("0.01"))
            rows.append((brand.pk, "guide", guide_id, store_id, MONTH, amount, now))
        amount = (per_store * Decimal(rng.uniform(0.6, 1.4))).quantize(Decimal("0.01"))
        rows.append((brand.pk, "store", None, store_id, MONTH, amount, now))
    rows_insert(
        SalesTarget,
        ("brand_id", "beneficiary", "guide_id", "store_id", "month", "amount", "updated_at"),
        rows,
    )
    return len(rows)


def _plans(brand):
    IncentivePolicy.objects.create(
        brand=brand, close_hold_days=7, points_per_100_sales=1, points_per_member=10,
        points_per_follow_up=5,
    )  # fmt: skip
    services.bonus_plan_create(
        name="Guides", brand=brand, beneficiary="guide", basis="achievement",
        brackets=GUIDE_BRACKETS, cap=GUIDE_CAP, valid_from=dt.date(2026, 1, 1),
    )  # fmt: skip
    services.bonus_plan_create(
        name="Stores", brand=brand, beneficiary="store", basis="net_sales",
        brackets=STORE_BRACKETS, valid_from=dt.date(2026, 1, 1),
    )  # fmt: skip


def _naive(rng, *, brand_id: int, sample: int) -> float:
    """Close ``sample`` targets one by one with the ORM, rolled back; return the seconds."""
    target_ids = list(
        SalesTarget.objects.filter(brand_id=brand_id, month=MONTH).values_list("pk", flat=True)
    )
    chosen = rng.sample(target_ids, sample)
    now = timezone.now()
    started = time.perf_counter()
    with transaction.atomic():
        for target in SalesTarget.objects.filter(pk__in=chosen).select_related("store"):
            who = (
                {"guide_id": target.guide_id}
                if target.beneficiary == "guide"
                else {"store_id": target.store_id}
            )
            entries = CommissionEntry.objects.filter(
                brand_id=brand_id, beneficiary=target.beneficiary, **who
            )
            sold = entries.filter(
                refund__isnull=True, order__isnull=False, business_date__range=(MONTH, MONTH_END)
            ).aggregate(total=Sum("base_amount"))["total"] or Decimal(0)
            refunded = entries.filter(
                refund__isnull=False, order__business_date__range=(MONTH, MONTH_END)
            ).aggregate(total=Sum("base_amount"))["total"] or Decimal(0)
            net = sold + refunded
            plan = (
                BonusPlan.objects.filter(
                    brand_id=brand_id, beneficiary=target.beneficiary, valid_from__lte=MONTH
                )
                .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=MONTH))
                .filter(Q(store__isnull=True) | Q(store_id=target.store_id))
                .filter(Q(store_kind="") | Q(store_kind=target.store.kind))
                .order_by("-specificity", "-valid_from")
                .first()
            )
            result = bonus_compute(
                net_sales=net, target=target.amount, basis=plan.basis,
                brackets=brackets_parse(plan.brackets), cap=plan.cap,
            )  # fmt: skip
            award = BonusAward.objects.create(
                brand_id=brand_id, month=MONTH, revision=0, beneficiary=target.beneficiary,
                guide_id=target.guide_id, store_id=target.store_id, target=target, plan=plan,
                net_sales=net, target_amount=target.amount, basis=plan.basis,
                brackets=plan.brackets, cap=plan.cap, brackets_reached=result.brackets_reached,
                bonus=result.bonus, amount=result.bonus, created_at=now,
            )  # fmt: skip
            if result.bonus:
                award.entry = CommissionEntry.objects.create(
                    kind="bonus", bonus_award_id=award.pk, beneficiary=target.beneficiary,
                    guide_id=target.guide_id, store_id=target.store_id, brand_id=brand_id,
                    business_date=RUN_DATE, base_amount=0, rate=0, amount=result.bonus,
                    mode="T1", hold_days=1, created_at=now,
                )  # fmt: skip
                award.save(update_fields=["entry"])
            if target.guide_id and net >= 100:
                account, _created = PointsAccount.objects.get_or_create(
                    guide_id=target.guide_id, brand_id=brand_id
                )
                points = int(net // 100)
                PointsMovement.objects.create(
                    account=account, kind="sales", points=points, month=MONTH, reason="naive",
                    reference=f"naive:{target.pk}", created_at=now,
                )  # fmt: skip
                PointsAccount.objects.filter(pk=account.pk).update(balance=F("balance") + points)
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return seconds


def _exact(rng, *, brand_id: int, check: int) -> bool:
    """Recompute ``check`` random awards' bonuses from their entries, in plain Python."""
    awards = list(BonusAward.objects.filter(brand_id=brand_id, month=MONTH, revision=0))
    chosen = rng.sample(awards, min(check, len(awards)))
    for award in chosen:
        who = (
            {"guide_id": award.guide_id}
            if award.beneficiary == "guide"
            else {"store_id": award.store_id}
        )
        rows = list(
            CommissionEntry.objects.filter(
                brand_id=brand_id, beneficiary=award.beneficiary, kind__in=["order", "refund"],
                **who,
            ).values_list("business_date", "base_amount", "refund_id", "order_id")
        )  # fmt: skip
        order_days = dict(
            Order.objects.filter(pk__in=[r[3] for r in rows if r[2]]).values_list(
                "pk", "business_date"
            )
        )
        net = Decimal(0)
        for day, base, refund_id, order_id in rows:
            sale_day = order_days[order_id] if refund_id else day
            if MONTH <= sale_day <= MONTH_END:
                net += Decimal(base)
        if award.beneficiary == "guide":
            unit = award.target_amount / 100
            brackets, cap = GUIDE_BRACKETS, GUIDE_CAP
        else:
            unit, brackets, cap = Decimal(1), STORE_BRACKETS, None
        bonus = Decimal(0)
        for bracket in brackets:
            low = Decimal(bracket["from"]) * unit
            high = Decimal(bracket["to"]) * unit if bracket.get("to") else None
            top = net if high is None else min(net, high)
            if top > low:
                bonus += (top - low) * Decimal(bracket["rate"]) / 100
        bonus = bonus.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        if cap is not None:
            bonus = min(bonus, cap)
        if bonus != award.bonus or net != award.net_sales:
            return False
        entry_amount = award.entry.amount if award.entry_id else Decimal(0)
        if entry_amount != award.bonus:
            return False
    return True


def _half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def _yuan(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"
