"""Seed realistic demo data, idempotently: a second run changes nothing (`manage.py seed_demo`)."""

import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from apps.commissions.models import CommissionPlan, Order, SettlementMode, SettlementTerms
from apps.commissions.services import (
    commission_entries_write,
    commission_plan_create,
    order_ingest,
    settlement_run,
    settlement_settle_t0,
    settlement_terms_set,
)
from apps.core.roles import Role, user_role_add
from apps.customers.models import Membership
from apps.customers.services import member_join, memberships_assign_pending
from apps.demo.data import (
    DEMO_BRANDS,
    DEMO_CITIES,
    DEMO_LARGE_REGIONS,
    DEMO_PASSWORD,
    GUIDE_GIVEN_NAMES,
    GUIDE_SURNAMES,
)
from apps.engagement.models import RULE_DAY_DEFAULTS, FollowUpRule, Tag
from apps.engagement.services import follow_ups_create
from apps.guides.models import Guide
from apps.stores.models import Brand, Region, Store

GUIDES_PER_STORE = 3
MEMBERS_PER_STORE_BRAND = 3


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: Role
    description: str


DEMO_LOGINS = [
    DemoLogin("hq", Role.HQ_OPS, "HQ operations: everything, reports, plans, payouts"),
    DemoLogin("region_east", Role.REGION_MANAGER, "Region manager of 华东大区"),
    DemoLogin("manager_sh01", Role.STORE_MANAGER, "Store manager of the first Shanghai store"),
    DemoLogin("guide_sh01", Role.GUIDE, "Guide in the first Shanghai store"),
    DemoLogin("pos", Role.INTEGRATION, "POS / e-commerce integration (API token)"),
]


def _store_brand_codes(index: int) -> list[str]:
    """Every store carries one brand; every fifth is a multi-brand collection store."""
    codes = [code for code, _name in DEMO_BRANDS]
    if index % 5 == 0:
        return codes
    if index % 5 == 1:
        return codes[:2]
    return [codes[index % len(codes)]]


@transaction.atomic
def demo_seed() -> dict[str, int]:
    """Create the demo brands, regions, stores, guides and one login per role."""
    rng = random.Random(2026)
    brands = {
        code: Brand.objects.get_or_create(code=code, defaults={"name": name})[0]
        for code, name in DEMO_BRANDS
    }
    hq, _created = Region.objects.get_or_create(code="HQ", defaults={"name": "总部"})
    large = {
        code: Region.objects.get_or_create(code=code, defaults={"name": name, "parent": hq})[0]
        for code, name in DEMO_LARGE_REGIONS.items()
    }
    stores: list[Store] = []
    index = 0
    for region_code, region_name, city, districts in DEMO_CITIES:
        region, _created = Region.objects.get_or_create(
            code=region_code,
            defaults={"name": region_name, "parent": large[region_code.split("-")[0]]},
        )
        for district, latitude, longitude in districts:
            index += 1
            kind = [Store.Kind.DIRECT, Store.Kind.FRANCHISE, Store.Kind.DISTRIBUTOR][index % 3]
            store, created = Store.objects.get_or_create(
                code=f"S{index:04d}",
                defaults={
                    "name": f"{city}{district}店",
                    "kind": kind,
                    "region": region,
                    "city": city,
                    "address": f"{city}市{district}",
                    "latitude": latitude,
                    "longitude": longitude,
                    "service_radius_km": None if index % 4 else 30.0,
                },
            )
            if created:
                store.brands.set([brands[code] for code in _store_brand_codes(index)])
            stores.append(store)
            for number in range(1, GUIDES_PER_STORE + 1):
                name = rng.choice(GUIDE_SURNAMES) + rng.choice(GUIDE_GIVEN_NAMES)
                Guide.objects.get_or_create(
                    employee_no=f"E{index:04d}{number:02d}",
                    defaults={
                        "name": name,
                        "store": store,
                        "phone": f"139{index:04d}{number:04d}",
                        "role": Guide.Role.STORE_MANAGER if number == 1 else Guide.Role.GUIDE,
                    },
                )
    _demo_logins_ensure(first_store=stores[0], east=large["EAST"])
    _demo_members_ensure(stores, rng)
    _demo_commerce_ensure(rng)
    _demo_engagement_ensure()
    return {
        "brands": Brand.objects.count(),
        "stores": Store.objects.count(),
        "guides": Guide.objects.count(),
        "members": Membership.objects.count(),
        "orders": Order.objects.count(),
    }


def _demo_members_ensure(stores: list[Store], rng: random.Random) -> None:
    """Members living within a few kilometres of each store, for each brand it carries."""
    number = 0
    for store in stores:
        for brand in store.brands.order_by("code"):
            for _ in range(MEMBERS_PER_STORE_BRAND):
                number += 1
                member_join(
                    brand=brand,
                    phone=f"150{number:08d}",
                    name=rng.choice(GUIDE_SURNAMES) + rng.choice(GUIDE_GIVEN_NAMES),
                    source=Membership.Source.MINI_PROGRAM,
                    latitude=store.latitude + rng.uniform(-0.02, 0.02),
                    longitude=store.longitude + rng.uniform(-0.02, 0.02),
                )
    memberships_assign_pending()
    # Most demo members joined weeks ago (their guides have earned on their
    # orders since); one in four joined today and shows as new on dashboards.
    joined_long_ago = timezone.now() - timedelta(days=DEMO_MEMBER_AGE_DAYS)
    fresh = Membership.objects.filter(
        customer__phone__startswith="150", bound_at__gt=timezone.now() - timedelta(days=1)
    )
    for membership_id in fresh.order_by("pk").values_list("pk", flat=True):
        if membership_id % 4:
            Membership.objects.filter(pk=membership_id).update(
                joined_at=joined_long_ago, bound_at=joined_long_ago
            )


def _demo_logins_ensure(*, first_store: Store, east: Region) -> None:
    user_model = get_user_model()
    for login in DEMO_LOGINS:
        user, created = user_model.objects.get_or_create(
            username=login.username,
            defaults={"is_staff": login.role != Role.INTEGRATION, "first_name": login.description},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        user_role_add(user, login.role)
    east.managers.add(user_model.objects.get(username="region_east"))
    for username, employee_no in (("manager_sh01", "E000101"), ("guide_sh01", "E000102")):
        Guide.objects.filter(employee_no=employee_no, user__isnull=True).update(
            user=user_model.objects.get(username=username)
        )


# One settlement mode per demo brand, so each kind of payout shows up.
DEMO_SETTLEMENT_MODES = {
    "AUR": SettlementMode.T0,
    "BMB": SettlementMode.T1,
    "CDR": SettlementMode.MONTHLY,
}
DEMO_ORDER_DAYS = 30
DEMO_MEMBER_AGE_DAYS = 45
DEMO_ORDERS_PER_MEMBER = 1


def _demo_commerce_ensure(rng: random.Random) -> None:
    """Plans, settlement terms and a month of members' orders, with entries and settlements."""
    today = timezone.localdate()
    for brand in Brand.objects.filter(code__in=DEMO_SETTLEMENT_MODES):
        if not CommissionPlan.objects.filter(brand=brand).exists():
            commission_plan_create(
                brand=brand,
                guide_rate=Decimal("3.00"),
                store_rate=Decimal("5.00"),
                valid_from=today - timedelta(days=365),
            )
        if not SettlementTerms.objects.filter(brand=brand, store__isnull=True).exists():
            settlement_terms_set(brand=brand, mode=DEMO_SETTLEMENT_MODES[brand.code])
    now = timezone.now()
    memberships = Membership.objects.filter(
        assignment_status=Membership.Status.ASSIGNED,
        bound_at__lte=now - timedelta(days=DEMO_ORDER_DAYS),
    )
    for membership in memberships.select_related("brand", "store", "customer").order_by("pk"):
        for number in range(1, DEMO_ORDERS_PER_MEMBER + 1):
            order_no = f"DEMO-{membership.pk}-{number}"
            if Order.objects.filter(order_no=order_no).exists():
                continue
            paid_at = now - timedelta(
                days=rng.randrange(DEMO_ORDER_DAYS), minutes=rng.randrange(600)
            )
            order, _created = order_ingest(
                order_no=order_no,
                brand=membership.brand,
                store=membership.store,
                amount=Decimal(rng.randrange(9_900, 99_900)) / 100,
                paid_at=paid_at,
                member_phone=membership.customer.phone,
            )
            commission_entries_write(order_id=order.pk)
            settlement_settle_t0(order_id=order.pk)
    # As if the nightly and monthly runs had happened: last month settled on
    # the 1st, everything due by today settled tonight.
    settlement_run(run_date=today.replace(day=1))
    settlement_run(run_date=today)


DEMO_OFFICIAL_TAGS = ["VIP", "新客", "常客", "生日月", "高潜力"]


def _demo_engagement_ensure() -> None:
    """Each brand's four follow-up rules and HQ's tags, then today's follow-ups."""
    for brand in Brand.objects.all():
        for kind, days in RULE_DAY_DEFAULTS.items():
            FollowUpRule.objects.get_or_create(brand=brand, kind=kind, defaults={"days": days})
        for name in DEMO_OFFICIAL_TAGS:
            Tag.objects.get_or_create(brand=brand, name=name, defaults={"is_official": True})
    # Rules just made would greet nobody who joined before them: date them back.
    FollowUpRule.objects.filter(created_at__gt=timezone.now() - timedelta(minutes=5)).update(
        created_at=timezone.now() - timedelta(days=365)
    )
    follow_ups_create()
