"""``manage.py settle --date YYYY-MM-DD [--brand CODE] [--dry-run]``."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apps.commissions.services import settlement_run
from apps.stores.models import Brand


class Command(BaseCommand):
    help = (
        "Settle the commission entries due on a date, as the nightly job does "
        "(monthly ones too when the date is the 1st)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", required=True, help="run date, YYYY-MM-DD")
        parser.add_argument("--brand", help="brand code: settle this brand only")
        parser.add_argument(
            "--dry-run", action="store_true", help="print what would be settled, write nothing"
        )
        parser.add_argument(
            "--allow-future",
            action="store_true",
            help="settle a date after today: closes periods before they end, early",
        )

    def handle(self, *args, date, brand=None, dry_run=False, allow_future=False, **options):
        try:
            run_date = dt.date.fromisoformat(date)
        except ValueError as exc:
            raise CommandError(f"--date must be YYYY-MM-DD, not {date!r}") from exc
        today = timezone.localdate()
        if run_date > today and not allow_future:
            raise CommandError(
                f"--date {run_date} is after today ({today}): settling it would close open "
                "periods before they end. Give --allow-future if that is what you mean."
            )
        brand_obj = None
        if brand:
            brand_obj = Brand.objects.filter(code=brand).first()
            if brand_obj is None:
                raise CommandError(f"Unknown brand {brand!r}")
        if dry_run:
            result = settlement_run(run_date=run_date, brand=brand_obj, dry_run=True)
            rows = result.preview
        else:
            result = settlement_run(run_date=run_date, brand=brand_obj)
            rows = [
                (s.beneficiary, s.guide.employee_no if s.guide else s.store.code, s.brand.code,
                 s.mode, s.period_start, s.period_end, s.entry_count, s.total)
                for s in result.settlements
            ]  # fmt: skip
        for row in rows:
            self.stdout.write("  ".join(str(value) for value in row))
        verb = "would settle" if dry_run else "settled"
        self.stdout.write(
            f"{run_date}: {verb} {result.entry_count} entries into "
            f"{result.settlement_count} settlements, total {result.total}"
        )
