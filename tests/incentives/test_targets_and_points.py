"""Targets from CSV (all or nothing, errors naming line and column) and points redemptions."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from apps.incentives import services
from apps.incentives.models import PointsAccount, PointsMovement, SalesTarget
from tests.commissions.conftest import requires_postgres
from tests.factories import GuideFactory, StoreFactory
from tests.incentives.conftest import EVERYTHING, MARCH

HEADER = "brand,month,store,guide,amount\n"


def test_csv_import_sets_store_and_guide_targets(brand, store, hq):
    GuideFactory(employee_no="G1", store=store)

    count = services.sales_targets_import(
        scope=EVERYTHING, actor=hq,
        csv_text=HEADER + "AUR,2026-03,SH01,,50000\nAUR,2026-03,SH01,G1,12000.50\n",
    )  # fmt: skip

    assert count == 2
    assert SalesTarget.objects.get(beneficiary="store").amount == Decimal("50000.00")
    assert SalesTarget.objects.get(beneficiary="guide").amount == Decimal("12000.50")


def test_csv_import_with_any_error_imports_nothing_and_names_line_and_column(brand, store, hq):
    StoreFactory(code="BJ01")  # does not carry the brand
    text = HEADER + (
        "AUR,2026-03,SH01,,50000\n"  # line 2: fine
        "AUR,2026-13,SH01,,1\n"  # line 3: bad month
        "XXX,2026-03,SH01,,1\n"  # line 4: unknown brand
        "AUR,2026-03,SH01,NOPE,1\n"  # line 5: unknown guide
        "AUR,2026-03,SH01,,-5\n"  # line 6: negative amount
        "AUR,2026-03,BJ01,,5\n"  # line 7: store without the brand
        "AUR,2026-03,SH01,,abc\n"  # line 8: not a number
    )

    with pytest.raises(services.TargetImportError) as exc:
        services.sales_targets_import(scope=EVERYTHING, actor=hq, csv_text=text)

    assert [(e.line, e.column) for e in exc.value.errors] == [
        (3, "month"), (4, "brand"), (5, "guide"), (6, "amount"), (7, "store"), (8, "amount"),
    ]  # fmt: skip
    assert not SalesTarget.objects.exists()


def test_csv_import_refuses_a_missing_column_and_duplicates(brand, store, hq):
    with pytest.raises(services.TargetImportError) as missing:
        services.sales_targets_import(scope=EVERYTHING, actor=hq, csv_text="brand,month\n")
    assert {e.column for e in missing.value.errors} == {"store", "guide", "amount"}
    with pytest.raises(services.TargetImportError) as twice:
        services.sales_targets_import(
            scope=EVERYTHING,
            actor=hq,
            csv_text=HEADER + "AUR,2026-03,SH01,,1\nAUR,2026-03,SH01,,2\n",
        )
    assert [(e.line, e.column) for e in twice.value.errors] == [(3, "store")]


def test_a_closed_months_target_is_frozen(brand, store, hq):
    services.sales_target_set(
        scope=EVERYTHING, actor=hq, brand=brand, month=MARCH, amount=Decimal(100), store=store
    )
    services.bonus_month_close(brand_id=brand.pk, month=MARCH)
    with pytest.raises(ValidationError) as exc:
        services.sales_target_set(
            scope=EVERYTHING, actor=hq, brand=brand, month=MARCH, amount=Decimal(200), store=store
        )
    assert "month" in exc.value.message_dict


def _account_with(guide, brand, points):
    account = PointsAccount.objects.create(guide=guide, brand=brand, balance=points)
    PointsMovement.objects.create(
        account=account, kind="sales", points=points, reason="test", reference=f"seed-{guide.pk}",
        created_at="2026-03-01T00:00:00Z",
    )  # fmt: skip
    return account


def test_redemption_takes_points_with_actor_and_reason_and_never_below_zero(brand, store, hq):
    guide = GuideFactory(store=store)
    account = _account_with(guide, brand, 100)

    movement, created = services.points_redeem(
        guide=guide, brand=brand, points=60, reward="gift", reason="Mooncakes", reference="RD-1",
        actor=hq,
    )  # fmt: skip
    again, created_again = services.points_redeem(
        guide=guide, brand=brand, points=60, reward="gift", reason="Mooncakes", reference="RD-1",
        actor=hq,
    )  # fmt: skip

    assert created and not created_again and again.pk == movement.pk
    account.refresh_from_db()
    assert account.balance == 40 and movement.actor == hq and movement.points == -60
    with pytest.raises(ValidationError) as exc:
        services.points_redeem(
            guide=guide, brand=brand, points=41, reward="cash", reason="x", reference="RD-2",
            actor=hq,
        )  # fmt: skip
    assert "points" in exc.value.message_dict
    account.refresh_from_db()
    assert account.balance == 40
    assert not PointsMovement.objects.filter(reference="RD-2").exists()


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_redemptions_never_overdraw(brand, store, hq):
    guide = GuideFactory(store=store)
    account = _account_with(guide, brand, 100)
    outcomes = []
    barrier = threading.Barrier(4)

    def redeem(n):
        try:
            barrier.wait()
            services.points_redeem(
                guide=guide, brand=brand, points=40, reward="gift", reason="race",
                reference=f"RACE-{n}", actor=hq,
            )  # fmt: skip
            outcomes.append("ok")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=redeem, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["ok", "ok", "refused", "refused"]
    account.refresh_from_db()
    assert account.balance == 20
