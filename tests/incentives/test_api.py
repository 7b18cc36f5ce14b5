"""The incentives API: scoped like entries, writes by the roles that own them, bad input refused."""

import datetime as dt
from decimal import Decimal

import pytest

from apps.core.scoping import Scope
from apps.incentives import services
from apps.incentives.models import PointsAccount, PointsMovement, SalesTarget
from tests.commissions.factories import CommissionPlanFactory
from tests.conftest import token_client
from tests.factories import UserFactory
from tests.incentives.conftest import MARCH, sale

EVERYTHING = Scope(everything=True, masks_phones=False)


@pytest.fixture
def targets(org):
    aurora = org.brands[0]
    hq = org.users["hq"]
    for _code, store in org.stores.items():
        services.sales_target_set(
            scope=EVERYTHING, actor=hq, brand=aurora, month=MARCH, amount=Decimal(1000),
            store=store,
        )  # fmt: skip
    for guide in org.guides.values():
        services.sales_target_set(
            scope=EVERYTHING, actor=hq, brand=aurora, month=MARCH, amount=Decimal(100), guide=guide
        )
    return SalesTarget.objects.all()


def _seen(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.content
    return response.json()["results"]


@pytest.mark.parametrize(
    ("user", "stores", "guides"),
    [
        ("hq", {"SH01", "SH02", "BJ01"}, {"M-SH01", "G-SH01", "G-SH02", "G-BJ01"}),
        ("region_east", {"SH01", "SH02"}, {"M-SH01", "G-SH01", "G-SH02"}),
        ("manager_sh01", {"SH01"}, {"M-SH01", "G-SH01"}),
        ("guide_sh01", {"SH01"}, {"G-SH01"}),
    ],
)
def test_targets_are_scoped_like_entries(org, targets, user, stores, guides):
    rows = _seen(token_client(org.users[user]), "/api/v1/targets/?month=2026-03")

    assert {r["guide"] for r in rows if r["guide"]} == guides
    assert {r["store"] for r in rows} == stores
    if user == "guide_sh01":
        assert all(r["beneficiary"] == "guide" for r in rows)


def test_target_shows_live_progress_and_projected_bonus(org, targets):
    aurora = org.brands[0]
    guide = org.guides["G-SH01"]
    services.bonus_plan_create(
        name="Spring", brand=aurora, beneficiary="guide", basis="achievement",
        brackets=[{"from": "100", "rate": "10"}], valid_from=dt.date(2026, 1, 1),
    )  # fmt: skip
    sale(guide=guide, plan=CommissionPlanFactory(brand=aurora), amount=Decimal("150.00"))

    row = _seen(token_client(org.users["guide_sh01"]), "/api/v1/targets/")[0]

    assert row["net_sales"] == "150.00" and row["achievement"] == "150.00"
    assert row["brackets_reached"] == 1 and row["projected_bonus"] == "5.00"
    assert row["bonus"] is None


def test_only_hq_and_region_managers_set_targets_within_their_stores(org):
    body = {"brand": "AUR", "month": "2026-04", "store": "BJ01", "amount": "500"}
    assert token_client(org.users["guide_sh01"]).post("/api/v1/targets/", body).status_code == 403
    region = token_client(org.users["region_east"])
    outside = region.post("/api/v1/targets/", body, format="json")
    assert outside.status_code == 400 and "store" in outside.json()
    inside = region.post("/api/v1/targets/", {**body, "store": "SH02"}, format="json")
    assert inside.status_code == 201 and inside.json()["month"] == "2026-04-01"
    bad = region.post("/api/v1/targets/", {**body, "month": "April"}, format="json")
    assert bad.status_code == 400 and "month" in bad.json()


def test_csv_import_answers_errors_by_line_and_column(org):
    client = token_client(org.users["hq"])
    csv = "brand,month,store,guide,amount\nAUR,2026-04,SH01,,100\nAUR,2026-04,XX,,100\n"

    refused = client.post("/api/v1/targets/import/", {"csv": csv}, format="json")
    done = client.post("/api/v1/targets/import/", {"csv": csv.replace("XX", "SH02")}, format="json")

    assert refused.status_code == 400
    assert refused.json() == {
        "errors": [{"line": 3, "column": "store", "message": "Unknown store code."}]
    }
    assert done.status_code == 200 and done.json() == {"imported": 2}


def test_unknown_query_parameters_are_refused(org):
    response = token_client(org.users["hq"]).get("/api/v1/targets/?mnth=2026-03")
    assert response.status_code == 400 and "mnth" in response.json()


def test_bonus_plans_hq_writes_validated_brackets_others_read_their_brands(org):
    hq = token_client(org.users["hq"])
    body = {
        "name": "North only", "brand": "BOR", "beneficiary": "guide", "basis": "net_sales",
        "brackets": [{"from": "0", "to": "100", "rate": "1"}, {"from": "50", "rate": "2"}],
        "valid_from": "2026-03",
    }  # fmt: skip
    overlapping = hq.post("/api/v1/bonus-plans/", body, format="json")
    assert overlapping.status_code == 400 and "brackets" in overlapping.json()
    body["brackets"][1]["from"] = "100"
    assert hq.post("/api/v1/bonus-plans/", body, format="json").status_code == 201
    services.bonus_plan_create(
        name="Aurora", brand=org.brands[0], beneficiary="store", basis="net_sales",
        brackets=[{"from": "0", "rate": "1"}], valid_from=MARCH,
    )  # fmt: skip
    guide = token_client(org.users["guide_sh01"])
    assert guide.post("/api/v1/bonus-plans/", body, format="json").status_code == 403
    # SH01 carries both brands; a guide of BJ01 (Aurora only) sees Aurora's plan only.
    assert {p["brand"] for p in _seen(guide, "/api/v1/bonus-plans/")} == {"AUR", "BOR"}
    bj_user = org.guides["G-BJ01"]
    bj_user.user = UserFactory(username="guide_bj01", role="guide")
    bj_user.save()
    assert {p["brand"] for p in _seen(token_client(bj_user.user), "/api/v1/bonus-plans/")} == {
        "AUR"
    }


def test_points_are_scoped_ranked_in_the_store_and_redeemed_by_hq(org):
    aurora = org.brands[0]
    for number, guide in enumerate(org.guides.values(), start=1):
        account = PointsAccount.objects.create(guide=guide, brand=aurora, balance=number * 10)
        PointsMovement.objects.create(
            account=account, kind="sales", points=number * 10, reason="seed",
            reference=f"seed-{number}", created_at=dt.datetime(2026, 4, 8, tzinfo=dt.UTC),
        )  # fmt: skip

    manager_rows = _seen(token_client(org.users["manager_sh01"]), "/api/v1/points/")
    guide_rows = _seen(token_client(org.users["guide_sh01"]), "/api/v1/points/")

    assert {(r["guide"], r["balance"], r["store_rank"]) for r in manager_rows} == {
        ("M-SH01", 10, 2), ("G-SH01", 20, 1),
    }  # fmt: skip
    assert [(r["guide"], r["store_rank"]) for r in guide_rows] == [("G-SH01", 1)]
    redeem = {"guide": "G-SH01", "brand": "AUR", "points": 15, "reward": "gift",
              "reason": "Mooncakes", "reference": "RD-9"}  # fmt: skip
    guide_client = token_client(org.users["guide_sh01"])
    assert guide_client.post("/api/v1/points/redeem/", redeem, format="json").status_code == 403
    hq = token_client(org.users["hq"])
    assert hq.post("/api/v1/points/redeem/", redeem, format="json").status_code == 201
    too_many = hq.post("/api/v1/points/redeem/", {**redeem, "reference": "RD-10"}, format="json")
    assert too_many.status_code == 400 and "points" in too_many.json()
    account_id = guide_rows[0]["id"]
    movements = guide_client.get(f"/api/v1/points/{account_id}/movements/").json()["results"]
    assert [(m["kind"], m["points"], m["actor"]) for m in movements] == [
        ("redemption", -15, "hq"), ("sales", 20, None),
    ]  # fmt: skip
    other = PointsAccount.objects.get(guide=org.guides["G-BJ01"]).pk
    assert guide_client.get(f"/api/v1/points/{other}/movements/").status_code == 404
