import pytest

from apps.guides.models import Guide
from tests.factories import GuideFactory, StoreFactory

pytestmark = pytest.mark.django_db

GUIDES_URL = "/api/v1/guides/"


def test_hq_creates_a_guide_in_a_store_given_by_code(hq_client, store):
    response = hq_client.post(
        GUIDES_URL,
        {"employee_no": "E9001", "name": "王静", "phone": "13912345678", "store": "SH01"},
        format="json",
    )

    assert response.status_code == 201, response.data
    guide = Guide.objects.get(employee_no="E9001")
    assert guide.store == store
    assert guide.role == Guide.Role.GUIDE


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"store": "NOPE"}, "store"),
        ({"role": "ceo"}, "role"),
        ({"employee_no": ""}, "employee_no"),
        ({"user": "ghost"}, "user"),
    ],
)
def test_bad_guide_input_names_the_field(hq_client, store, overrides, field):
    payload = {"employee_no": "E9001", "name": "王静", "store": "SH01", **overrides}

    response = hq_client.post(GUIDES_URL, payload, format="json")

    assert response.status_code == 400
    assert field in response.data
    assert not Guide.objects.filter(name="王静").exists()


def test_guide_is_found_by_employee_no_and_filtered_by_store(hq_client, store):
    GuideFactory(employee_no="E1", store=store)
    GuideFactory(employee_no="E2", store=StoreFactory(code="BJ01"))

    assert hq_client.get(f"{GUIDES_URL}E1/").data["store"] == "SH01"
    listed = hq_client.get(GUIDES_URL, {"store": "BJ01"}).data["results"]
    assert [g["employee_no"] for g in listed] == ["E2"]


def test_guide_leaving_is_a_deactivation(hq_client, store):
    GuideFactory(employee_no="E1", store=store)

    response = hq_client.patch(f"{GUIDES_URL}E1/", {"is_active": False}, format="json")

    assert response.status_code == 200
    assert Guide.objects.get(employee_no="E1").is_active is False
    assert hq_client.delete(f"{GUIDES_URL}E1/").status_code == 405


def test_guide_cannot_create_guides(guide_client):
    response = guide_client.post(
        GUIDES_URL, {"employee_no": "E9", "name": "x", "store": "SH01"}, format="json"
    )

    assert response.status_code == 403


def test_guide_list_query_count_does_not_grow_with_guides(
    hq_client, store, django_assert_max_num_queries
):
    for number in range(20):
        GuideFactory(employee_no=f"Q{number:02d}", store=store)

    with django_assert_max_num_queries(5):
        response = hq_client.get(GUIDES_URL)

    assert response.data["count"] == 20
