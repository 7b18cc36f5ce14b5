"""A region manager's scope is their region subtree, joined on the store, never a list of stores."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.scoping import scope_for_user, scope_queryset
from apps.customers.models import Membership
from apps.stores.models import Region, Store
from tests.factories import StoreFactory


def test_a_region_manager_sees_the_stores_of_their_subtree_through_the_region(org):
    east_ids = set(Region.objects.filter(code__startswith="EAST").values_list("pk", flat=True))
    for number in range(30):  # more stores in the region: the query must not grow with them
        StoreFactory(code=f"SHX{number:02d}", region=Region.objects.get(code="EAST-SH"))

    scope = scope_for_user(org.users["region_east"])
    with CaptureQueriesContext(connection) as queries:
        members = set(
            scope_queryset(Membership.objects.all(), scope).values_list(
                "guide__employee_no", flat=True
            )
        )
        stores = set(
            scope_queryset(Store.objects.all(), scope, store_field="pk").values_list(
                "code", flat=True
            )
        )

    assert (scope.region_ids, scope.store_ids) == (frozenset(east_ids), frozenset())
    assert members == {"M-SH01", "G-SH01", "G-SH02"}
    assert "BJ01" not in stores and len(stores) == 32
    sql = " ".join(query["sql"] for query in queries.captured_queries)
    assert "region_id" in sql
    assert str(org.stores["SH02"].pk) not in sql.split("IN", 1)[1].split(")")[0]


def test_a_store_manager_sees_their_store_and_a_guide_their_own(org):
    manager = scope_for_user(org.users["manager_sh01"])
    guide = scope_for_user(org.users["guide_sh01"])

    assert manager.is_one_store and not manager.region_ids
    assert set(
        scope_queryset(Membership.objects.all(), manager).values_list(
            "guide__employee_no", flat=True
        )
    ) == {"M-SH01", "G-SH01"}
    assert guide.is_guide_only
    assert manager.covers_store(store_id=org.stores["SH01"].pk, region_id=None)
    assert not manager.covers_store(
        store_id=org.stores["SH02"].pk, region_id=org.stores["SH02"].region_id
    )
