import pytest

from apps.core.roles import Role
from apps.customers.models import Customer, Membership
from tests.conftest import token_client
from tests.factories import GuideFactory, StoreFactory, UserFactory

pytestmark = pytest.mark.django_db

MEMBERS_URL = "/api/v1/members/"


@pytest.fixture
def amap_location():
    # People's Square as Amap shows it (GCJ-02).
    return {"latitude": 31.22863, "longitude": 121.47812, "coord_system": "gcj02"}


def test_join_answers_at_once_with_pending_then_shows_the_assignment(
    integration_client, shanghai, amap_location, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = integration_client.post(
            MEMBERS_URL,
            {"brand": "AUR", "phone": "+86 139-1234-5678", "name": "韩梅梅", **amap_location},
            format="json",
        )

    assert response.status_code == 201, response.data
    assert response.data["assignment_status"] == "pending"
    assert len(callbacks) == 1
    callbacks[0]()  # the worker picks the message up

    detail = integration_client.get(f"{MEMBERS_URL}{response.data['id']}/").data
    assert detail["brand"] == "AUR"
    assert detail["store"] == "SH-SQ"
    assert detail["guide"] == "SH-SQ-1"
    assert detail["assignment_status"] == "assigned"
    assert detail["unassigned_reason"] == ""
    assert detail["distance_km"] < 0.5  # converted from GCJ-02, not hundreds of metres off
    assert detail["phone"] == "139****5678"  # integrations never read full numbers back


def test_joining_again_answers_200_with_the_existing_membership(integration_client, shanghai):
    payload = {"brand": "AUR", "phone": "13912345678", "latitude": 31.23, "longitude": 121.47}
    first = integration_client.post(MEMBERS_URL, payload, format="json")

    again = integration_client.post(
        MEMBERS_URL, {**payload, "phone": "139 1234 5678"}, format="json"
    )

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.data["id"] == first.data["id"]
    assert Membership.objects.count() == 1


def test_qr_code_join_by_store_and_guide_codes(
    integration_client, shanghai, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = integration_client.post(
            MEMBERS_URL,
            {"brand": "AUR", "phone": "13912345670", "store": "SH-LJZ", "guide": "SH-LJZ-2"},
            format="json",
        )

    assert response.status_code == 201
    membership = Membership.objects.get()
    assert (membership.store.code, membership.guide.employee_no) == ("SH-LJZ", "SH-LJZ-2")
    assert membership.source == "store_qr"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"phone": "12345678901"}, "phone"),
        ({"phone": "+1 415 555 0100"}, "phone"),
        ({"latitude": 91}, "latitude"),
        ({"longitude": 181}, "longitude"),
        ({"latitude": None}, "latitude"),
        ({"brand": "NOPE"}, "brand"),
        ({"store": "NOPE"}, "store"),
        ({"guide": "NOPE"}, "guide"),
        ({"store": "SH-SQ", "guide": "SH-LJZ-1"}, "guide"),
        ({"store": "OTHER"}, "store"),
        ({"coord_system": "utm"}, "coord_system"),
        ({"source": "fax"}, "source"),
    ],
)
def test_bad_join_input_names_the_field_and_writes_nothing(
    integration_client, shanghai, overrides, field
):
    StoreFactory(code="OTHER")  # carries no brand
    payload = {"brand": "AUR", "phone": "13912345678", "latitude": 31.23, "longitude": 121.47}
    payload.update(overrides)
    payload = {k: v for k, v in payload.items() if not (k == "latitude" and v is None)}

    response = integration_client.post(MEMBERS_URL, payload, format="json")

    assert response.status_code == 400, response.data
    assert field in response.data
    assert not Customer.objects.exists()
    assert not Membership.objects.exists()


def test_member_list_filters_by_brand_store_guide_and_status(hq_client, shanghai, join):
    brand, square, lujiazui = shanghai
    join(brand, "13900000001", latitude=31.2305, longitude=121.4738)
    join(brand, "13900000002", latitude=31.2398, longitude=121.4999)
    join(brand, "13900000003")

    def phones(**params):
        return [m["phone"] for m in hq_client.get(MEMBERS_URL, params).data["results"]]

    assert phones(store="SH-LJZ") == ["13900000002"]
    assert phones(guide="SH-SQ-1") == ["13900000001"]
    assert phones(status="unassigned") == ["13900000003"]
    assert len(phones(brand="AUR")) == 3


def test_guides_see_only_their_members_with_masked_phones(shanghai, join):
    brand, square, _lujiazui = shanghai
    mine = join(brand, "13900000001", latitude=31.2305, longitude=121.4738)
    join(brand, "13900000002", latitude=31.2305, longitude=121.4738)  # the other guide's
    user = UserFactory(username="g1", role=Role.GUIDE)
    mine.guide.user = user
    mine.guide.save()
    client = token_client(user)

    listed = client.get(MEMBERS_URL).data["results"]

    assert [m["phone"] for m in listed] == ["139****0001"]
    other = Membership.objects.exclude(pk=mine.pk).get()
    assert client.get(f"{MEMBERS_URL}{other.pk}/").status_code == 404


def test_store_manager_sees_the_whole_store(shanghai, join):
    brand, square, _lujiazui = shanghai
    join(brand, "13900000001", latitude=31.2305, longitude=121.4738)
    join(brand, "13900000002", latitude=31.2305, longitude=121.4738)
    join(brand, "13900000003", latitude=31.2398, longitude=121.4999)  # Lujiazui
    user = UserFactory(username="m1", role=Role.STORE_MANAGER)
    GuideFactory(employee_no="MGR", store=square, user=user, role="store_manager")

    listed = token_client(user).get(MEMBERS_URL).data

    assert listed["count"] == 2


def test_member_list_query_count_is_flat(hq_client, shanghai, join, django_assert_max_num_queries):
    brand, *_stores = shanghai
    for i in range(15):
        join(brand, f"1390000{i:04d}", latitude=31.2305, longitude=121.4738)

    with django_assert_max_num_queries(5):
        response = hq_client.get(MEMBERS_URL)

    assert response.data["count"] == 15


def test_anonymous_cannot_join(anon_client, shanghai):
    response = anon_client.post(MEMBERS_URL, {"brand": "AUR", "phone": "13912345678"})

    assert response.status_code == 401


def test_hq_moves_a_member_to_another_guide_and_the_history_says_who(
    hq_client, hq_user, shanghai, join
):
    brand, _square, lujiazui = shanghai
    member = join(brand, "13900000009", latitude=31.2305, longitude=121.4738)

    response = hq_client.post(
        f"{MEMBERS_URL}{member.pk}/reassign/", {"guide": "SH-LJZ-2"}, format="json"
    )

    assert response.status_code == 200, response.data
    assert (response.data["store"], response.data["guide"]) == ("SH-LJZ", "SH-LJZ-2")
    event = member.events.order_by("-pk").first()
    assert (event.reason, event.actor, event.to_store) == ("manual", hq_user, lujiazui)


def test_a_guide_cannot_move_members(shanghai, join):
    brand, square, _lujiazui = shanghai
    member = join(brand, "13900000010", latitude=31.2305, longitude=121.4738)
    user = UserFactory(username="g2", role=Role.GUIDE)
    member.guide.user = user
    member.guide.save()

    response = token_client(user).post(
        f"{MEMBERS_URL}{member.pk}/reassign/", {"guide": "SH-SQ-2"}, format="json"
    )

    assert response.status_code == 403


def test_reassigning_to_a_store_without_the_brand_is_refused(hq_client, shanghai, join):
    brand, _square, _lujiazui = shanghai
    member = join(brand, "13900000011", latitude=31.2305, longitude=121.4738)
    GuideFactory(employee_no="ELSEWHERE", store=StoreFactory(code="NOBRAND"))

    response = hq_client.post(
        f"{MEMBERS_URL}{member.pk}/reassign/", {"guide": "ELSEWHERE"}, format="json"
    )

    assert response.status_code == 400
    assert "guide" in response.data


@pytest.mark.django_db
def test_guides_read_how_far_a_member_lives_not_where(org):
    mine = org.members["G-SH01"]
    Membership.objects.filter(pk=mine.pk).update(distance_km=2.2354984702927294)

    as_guide = token_client(org.users["guide_sh01"]).get(f"/api/v1/members/{mine.pk}/").json()
    as_hq = token_client(org.users["hq"]).get(f"/api/v1/members/{mine.pk}/").json()

    assert (as_guide["latitude"], as_guide["longitude"], as_guide["distance_km"]) == (
        None,
        None,
        2.2,
    )
    assert as_hq["latitude"] == mine.latitude and as_hq["distance_km"] == 2.2354984702927294


def test_a_rejoin_echoes_the_number_the_integration_sent_and_nothing_it_did_not(
    integration_client, shanghai, join
):
    # Given a member who joined with a location, through another channel
    brand, _square, _lujiazui = shanghai
    member = join(brand, "13912345678", latitude=31.2305, longitude=121.4738)

    # When POS signs the same number up again, written its own way, from elsewhere
    again = integration_client.post(
        MEMBERS_URL,
        {"brand": "AUR", "phone": "+86 139-1234-5678", "latitude": 31.0, "longitude": 121.0},
        format="json",
    )

    # Then it reads back the number it sent, normalised, but not where the member joined
    assert again.status_code == 200
    assert again.data["id"] == member.pk
    assert again.data["phone"] == "13912345678"
    assert (again.data["latitude"], again.data["longitude"]) == (None, None)
    # and a plain read still masks the number
    detail = integration_client.get(f"{MEMBERS_URL}{member.pk}/").data
    assert detail["phone"] == "139****5678"
    assert (detail["latitude"], detail["longitude"]) == (None, None)


def test_a_sign_up_answers_its_location_in_wgs84_and_says_so(
    integration_client, shanghai, amap_location
):
    response = integration_client.post(
        MEMBERS_URL, {"brand": "AUR", "phone": "13912345678", **amap_location}, format="json"
    )

    assert response.status_code == 201
    assert response.data["coord_system"] == "wgs84"
    # GCJ-02 sits ~500 m off WGS-84 in Shanghai: the answer is the converted point.
    assert response.data["latitude"] == pytest.approx(31.2305, abs=0.0005)
    assert response.data["longitude"] == pytest.approx(121.4738, abs=0.0005)
    assert response.data["longitude"] != amap_location["longitude"]


def test_a_batch_of_sign_ups_echoes_each_number_sent(integration_client, shanghai, join):
    brand, _square, _lujiazui = shanghai
    join(brand, "13912345678")

    answer = integration_client.post(
        f"{MEMBERS_URL}batch/",
        {"items": [
            {"brand": "AUR", "phone": "139 1234 5678"},
            {"brand": "AUR", "phone": "13987654321"},
        ]},
        format="json",
    ).data  # fmt: skip

    assert [item["status"] for item in answer["items"]] == ["replayed", "created"]
    assert [item["result"]["phone"] for item in answer["items"]] == [
        "13912345678",
        "13987654321",
    ]
    assert {item["result"]["coord_system"] for item in answer["items"]} == {"wgs84"}


def test_the_schema_says_which_coordinate_system_answers_carry(client):
    schema = client.get("/api/schema/?format=json").json()
    components = schema["components"]["schemas"]
    member = components["Membership"]["properties"]
    answered = member["coord_system"]["allOf"][0]["$ref"].rsplit("/", 1)[1]

    assert components[answered]["enum"] == ["wgs84"]
    assert "WGS-84" in member["coord_system"]["description"]
    assert "WGS-84" in member["latitude"]["description"]
