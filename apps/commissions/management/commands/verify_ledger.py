"""``manage.py verify_ledger [--brand CODE] [--date-from D] [--date-to D]``."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from apps.commissions.selectors import (
    DEFAULT_GRACE,
    EXAMPLES_PER_CHECK,
    LedgerScope,
    ledger_verify,
)
from apps.stores.models import Brand


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"Dates are YYYY-MM-DD, not {value!r}") from exc


class Command(BaseCommand):
    help = (
        "Check the commission ledger's invariants: entries match their frozen rates, "
        "clawbacks match refunds, no share is written twice, settlements equal their "
        "entries. Exits 1 with a report of every breach."
    )

    def add_arguments(self, parser):
        parser.add_argument("--brand", help="brand code: check this brand only")
        parser.add_argument("--date-from", help="first business date, YYYY-MM-DD")
        parser.add_argument("--date-to", help="last business date, YYYY-MM-DD")
        parser.add_argument(
            "--examples",
            type=int,
            default=EXAMPLES_PER_CHECK,
            help=f"breaches shown per check (default {EXAMPLES_PER_CHECK})",
        )
        parser.add_argument(
            "--grace-minutes",
            type=int,
            default=int(DEFAULT_GRACE.total_seconds() // 60),
            help="refunds younger than this may still lack their clawback entries "
            f"(default {int(DEFAULT_GRACE.total_seconds() // 60)})",
        )

    def handle(self, *args, brand=None, date_from=None, date_to=None, examples, grace_minutes,
               **options):  # fmt: skip
        brand_id = None
        if brand:
            brand_id = Brand.objects.filter(code=brand).values_list("pk", flat=True).first()
            if brand_id is None:
                raise CommandError(f"Unknown brand {brand!r}")
        scope = LedgerScope(
            brand_id=brand_id,
            date_from=_date(date_from) if date_from else None,
            date_to=_date(date_to) if date_to else None,
        )
        if scope.date_from and scope.date_to and scope.date_from > scope.date_to:
            raise CommandError("--date-from is after --date-to")
        if examples < 1 or grace_minutes < 0:
            raise CommandError("--examples must be at least 1 and --grace-minutes not negative")
        report = ledger_verify(
            scope=scope, examples=examples, grace=dt.timedelta(minutes=grace_minutes)
        )
        summary = (
            f"{report.orders} orders, {report.entries} entries, {report.settlements} settlements"
        )
        if report.ok:
            self.stdout.write(f"ledger OK: {summary}")
            return
        for breach in report.breaches:
            self.stdout.write(f"FAIL {breach.code}: {breach.title} — {breach.count} found")
            for example in breach.examples:
                self.stdout.write("    " + "  ".join(f"{k}={v}" for k, v in example.items()))
            if breach.count > len(breach.examples):
                self.stdout.write(f"    … and {breach.count - len(breach.examples)} more")
        raise CommandError(
            f"ledger has breaches in {len(report.breaches)} check(s) ({summary} checked)"
        )
