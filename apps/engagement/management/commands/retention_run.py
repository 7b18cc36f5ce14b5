"""``manage.py retention_run [--brand CODE] [--erase]``: the retention report, or the run."""

from django.core.management.base import BaseCommand, CommandError

from apps.customers.models import BrandPrivacyPolicy
from apps.engagement.services import retention_run
from apps.stores.models import Brand


class Command(BaseCommand):
    help = (
        "Report (default: a dry run, recorded) or, with --erase, erase the members past "
        "their brand's retention that the report of a week ago named, as the weekly job does."
    )

    def add_arguments(self, parser):
        parser.add_argument("--brand", help="brand code: this brand only")
        parser.add_argument(
            "--erase", action="store_true", help="erase for real (default: dry run)"
        )

    def handle(self, *args, brand=None, erase=False, **options):
        policies = BrandPrivacyPolicy.objects.filter(retention_months__isnull=False)
        if brand:
            if not Brand.objects.filter(code=brand).exists():
                raise CommandError(f"Unknown brand {brand!r}")
            policies = policies.filter(brand__code=brand)
        for policy in policies.select_related("brand").order_by("brand__code"):
            run = retention_run(brand_id=policy.brand_id, dry_run=not erase)
            what = f"{run.erased} erased" if erase else "dry run"
            self.stdout.write(
                f"{policy.brand.code}: {run.found} members inactive since "
                f"{run.cutoff:%Y-%m-%d} ({policy.retention_months} months); {what}"
            )
