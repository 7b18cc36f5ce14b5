import pytest

from apps.stores.models import Store
from tests.factories import BrandFactory, RegionFactory, StoreFactory

pytestmark = pytest.mark.django_db

STORES_URL = "/api/v1/stores/"


def store_payload(**overrides):
    payload = {
        "code": "BJ01",
        "name": "北京王府井店",
        "brands": ["AUR"],
        "kind": "franchise",
        "city": "北京",
        "address": "王府井大街 1 号",
        "latitude": 39.914,
        "longitude": 116.41,
    }
    payload.update(overrides)
    return payload


def test_hq_creates_a_multi_brand_store_by_codes(hq_client, brand):
    BrandFactory(code="BMB")
    region = RegionFactory(code="NORTH-BJ")

    response = hq_client.post(
        STORES_URL, store_payload(brands=["AUR", "BMB"], region="NORTH-BJ"), format="json"
    )

    assert response.status_code == 201, response.data
    store = Store.objects.get(code="BJ01")
    assert sorted(store.brands.values_list("code", flat=True)) == ["AUR", "BMB"]
    assert store.region == region
    assert response.data["brands"] == ["AUR", "BMB"]


def test_store_given_in_gcj02_is_stored_as_wgs84(hq_client, brand):
    # Amap shows Tiananmen at (39.90874, 116.39747); GPS reads about 0.0014°
    # south and 0.0062° west of that.
    response = hq_client.post(
        STORES_URL,
        store_payload(latitude=39.90874, longitude=116.39747, coord_system="gcj02"),
        format="json",
    )

    assert response.status_code == 201, response.data
    store = Store.objects.get(code="BJ01")
    assert store.latitude == pytest.approx(39.9073, abs=3e-4)
    assert store.longitude == pytest.approx(116.3912, abs=3e-4)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"brands": ["NOPE"]}, "brands"),
        ({"latitude": 90.5}, "latitude"),
        ({"longitude": -180.01}, "longitude"),
        ({"region": "NOWHERE"}, "region"),
        ({"kind": "popup"}, "kind"),
        ({"service_radius_km": 0}, "service_radius_km"),
        ({"coord_system": "mercator"}, "coord_system"),
        ({"latitude": None}, "latitude"),
    ],
)
def test_bad_store_input_names_the_field_and_writes_nothing(hq_client, brand, overrides, field):
    response = hq_client.post(STORES_URL, store_payload(**overrides), format="json")

    assert response.status_code == 400
    assert field in response.data
    assert not Store.objects.exists()


def test_duplicate_store_code_is_a_field_error(hq_client, brand):
    StoreFactory(code="BJ01")

    response = hq_client.post(STORES_URL, store_payload(), format="json")

    assert response.status_code == 400
    assert "code" in response.data


def test_malformed_json_is_a_400_not_a_500(hq_client):
    response = hq_client.generic(
        "POST", STORES_URL, '{"code": "BJ01", ', content_type="application/json"
    )

    assert response.status_code == 400
    assert "detail" in response.data


def test_anonymous_requests_are_401(anon_client):
    assert anon_client.get(STORES_URL).status_code == 401
    assert anon_client.post(STORES_URL, store_payload(), format="json").status_code == 401


def test_guide_token_cannot_write_master_data(guide_client):
    response = guide_client.post(STORES_URL, store_payload(code="X1"), format="json")

    assert response.status_code == 403
    assert guide_client.patch(f"{STORES_URL}SH01/", {"name": "x"}, format="json").status_code == 403


def test_integration_can_sync_stores(integration_client, brand):
    response = integration_client.post(STORES_URL, store_payload(), format="json")

    assert response.status_code == 201


def test_store_is_looked_up_and_updated_by_code_which_stays_fixed(hq_client, store):
    response = hq_client.patch(
        f"{STORES_URL}{store.code}/", {"is_active": False, "code": "OTHER"}, format="json"
    )

    assert response.status_code == 200, response.data
    store.refresh_from_db()
    assert store.is_active is False
    assert store.code == "SH01"


def test_partial_move_of_one_wgs84_coordinate_keeps_the_other(hq_client, store):
    response = hq_client.patch(f"{STORES_URL}{store.code}/", {"latitude": 31.3}, format="json")

    assert response.status_code == 200, response.data
    store.refresh_from_db()
    assert (store.latitude, store.longitude) == (31.3, 121.4737)


def test_store_list_filters_by_brand_and_region_subtree(hq_client, brand):
    east = RegionFactory(code="EAST")
    shanghai = RegionFactory(code="EAST-SH", parent=east)
    other_brand = BrandFactory(code="CDR")
    StoreFactory(code="A", brands=[brand], region=shanghai)
    StoreFactory(code="B", brands=[other_brand], region=shanghai)
    StoreFactory(code="C", brands=[brand], region=RegionFactory(code="WEST"))

    by_brand = hq_client.get(STORES_URL, {"brand": "AUR"}).data
    by_region = hq_client.get(STORES_URL, {"region": "EAST"}).data

    assert [s["code"] for s in by_brand["results"]] == ["A", "C"]
    assert [s["code"] for s in by_region["results"]] == ["A", "B"]


def test_store_list_query_count_does_not_grow_with_stores(
    hq_client, brand, django_assert_max_num_queries
):
    for number in range(20):
        StoreFactory(code=f"Q{number:02d}", brands=[brand])

    with django_assert_max_num_queries(6):
        response = hq_client.get(STORES_URL)

    assert response.data["count"] == 20


def test_region_cannot_become_its_own_ancestor(hq_client):
    east = RegionFactory(code="EAST")
    RegionFactory(code="EAST-SH", parent=east)

    response = hq_client.patch("/api/v1/regions/EAST/", {"parent": "EAST-SH"}, format="json")

    assert response.status_code == 400
    assert "parent" in response.data


def test_brands_are_created_and_read_by_code(hq_client, guide_client):
    assert hq_client.post("/api/v1/brands/", {"code": "ZZ", "name": "Z"}).status_code == 201
    assert guide_client.get("/api/v1/brands/ZZ/").data["name"] == "Z"
    assert hq_client.post("/api/v1/brands/", {"code": "ZZ", "name": "Z"}).status_code == 400
