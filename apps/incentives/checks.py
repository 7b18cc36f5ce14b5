"""The incentives' part of ``verify_ledger``.

Every bonus equals what its frozen inputs give, is booked as exactly its
entry, revisions add up; every points balance equals its movements.
"""

from django.db.models import Count, F, Q, Sum

from apps.commissions.models import CommissionEntry, EntryKind
from apps.commissions.selectors import Breach
from apps.incentives.brackets import bonus_compute, brackets_parse
from apps.incentives.models import BonusAward, PointsAccount

CHUNK = 2_000


def _breach(code, title, rows, examples) -> list[Breach]:
    rows = list(rows)
    if not rows:
        return []
    return [Breach(code=code, title=title, count=len(rows), examples=rows[:examples])]


def incentives_ledger_check(*, brand_id: int | None, examples: int) -> list[Breach]:
    """Return the breaches of the bonus and points ledgers (of one brand, or all)."""
    awards = BonusAward.objects.all()
    accounts = PointsAccount.objects.all()
    entries = CommissionEntry.objects.filter(kind=EntryKind.BONUS)
    if brand_id is not None:
        awards = awards.filter(brand_id=brand_id)
        accounts = accounts.filter(brand_id=brand_id)
        entries = entries.filter(brand_id=brand_id)
    breaches = []

    def recomputed():
        for award in awards.order_by("pk").iterator(chunk_size=CHUNK):
            result = bonus_compute(
                net_sales=award.net_sales, target=award.target_amount, basis=award.basis,
                brackets=brackets_parse(award.brackets), cap=award.cap,
            )  # fmt: skip
            if result.bonus != award.bonus or result.brackets_reached != award.brackets_reached:
                yield {"award": award.pk, "bonus": award.bonus, "expected": result.bonus}

    breaches += _breach(
        "bonus_inputs", "bonus differs from its frozen inputs", recomputed(), examples
    )
    booked = awards.exclude(amount=0).filter(
        Q(entry__isnull=True) | ~Q(entry__amount=F("amount")) | ~Q(entry__bonus_award_id=F("pk"))
    )
    breaches += _breach(
        "bonus_entry",
        "bonus award is not booked as exactly its one entry",
        booked.values("pk", "amount", "entry_id"),
        examples,
    )
    orphans = entries.exclude(bonus_award_id__in=awards.values("pk"))
    if brand_id is None:
        orphans = entries.exclude(bonus_award_id__in=BonusAward.objects.values("pk"))
    breaches += _breach(
        "bonus_orphan",
        "bonus entry without its award",
        orphans.values("pk", "bonus_award_id", "amount"),
        examples,
    )
    sums = (
        awards.values("brand_id", "beneficiary", "guide_id", "store_id", "month")
        .annotate(booked=Sum("amount"), revisions=Count("pk"), last=Count("pk") - 1)
        .order_by()
    )
    latest = {
        (a["brand_id"], a["beneficiary"], a["guide_id"], a["store_id"], a["month"], a["revision"]):
        a["bonus"]
        for a in awards.values(
            "brand_id", "beneficiary", "guide_id", "store_id", "month", "revision", "bonus"
        )
    }  # fmt: skip
    drifted = []
    for row in sums:
        key = (row["brand_id"], row["beneficiary"], row["guide_id"], row["store_id"], row["month"])
        bonus = latest.get((*key, row["last"]))
        if bonus is None or bonus != row["booked"]:
            drifted.append(
                {
                    "month": row["month"],
                    "guide": row["guide_id"],
                    "store": row["store_id"],
                    "booked": row["booked"],
                    "bonus": bonus,
                }
            )
    breaches += _breach(
        "bonus_revisions",
        "bonus revisions do not add up to the latest bonus (or skip a number)",
        drifted,
        examples,
    )
    unbalanced = (
        accounts.annotate(moved=Sum("movements__points"))
        .exclude(balance=0, moved__isnull=True)
        .filter(Q(moved__isnull=True) | ~Q(balance=F("moved")))
        .values("pk", "guide_id", "brand_id", "balance", "moved")
    )
    breaches += _breach(
        "points_balance", "points balance differs from its movements", unbalanced, examples
    )
    return breaches
