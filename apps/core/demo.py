"""Seed realistic demo data, idempotently: a second run changes nothing."""

import random
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from apps.core.demo_data import (
    DEMO_BRANDS,
    DEMO_CITIES,
    DEMO_LARGE_REGIONS,
    DEMO_PASSWORD,
    GUIDE_GIVEN_NAMES,
    GUIDE_SURNAMES,
)
from apps.core.roles import Role, user_role_add
from apps.customers.models import Membership
from apps.customers.services import member_join, memberships_assign_pending
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
    return {
        "brands": Brand.objects.count(),
        "stores": Store.objects.count(),
        "guides": Guide.objects.count(),
        "members": Membership.objects.count(),
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
