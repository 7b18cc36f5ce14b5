"""``manage.py seed_demo``: the demo data and one login per role."""

from django.core.management.base import BaseCommand

from apps.demo.data import DEMO_PASSWORD
from apps.demo.seed import DEMO_LOGINS, demo_seed


class Command(BaseCommand):
    help = "Create demo brands, regions, stores, guides and one login per role (idempotent)."

    def handle(self, *args, **options):
        counts = demo_seed()
        self.stdout.write(
            "Demo data: {brands} brands, {stores} stores, {guides} guides, "
            "{members} members, {orders} orders.".format(**counts)
        )
        self.stdout.write(f"Demo logins (password {DEMO_PASSWORD}):")
        for login in DEMO_LOGINS:
            self.stdout.write(f"  {login.username:<14} {login.description}")
