"""``manage.py assign_members [--recompute]``: bulk assignment of members."""

import time

from django.core.management.base import BaseCommand

from apps.customers.services import memberships_assign_pending, memberships_recompute


class Command(BaseCommand):
    help = "Assign every pending membership in bulk; --recompute re-evaluates every member."

    def add_arguments(self, parser):
        parser.add_argument(
            "--recompute",
            action="store_true",
            help="Also move located members whose nearest eligible store changed.",
        )

    def handle(self, *args, recompute, **options):
        started = time.perf_counter()
        if recompute:
            changed = memberships_recompute()
            verb = "Re-evaluated everyone; changed"
        else:
            changed = memberships_assign_pending()
            verb = "Assigned"
        elapsed = time.perf_counter() - started
        self.stdout.write(f"{verb} {changed} memberships in {elapsed:.2f} s.")
