"""The phone's API: /me/, my members, follow-ups, notes and tags, scoped like the admin."""

import datetime as dt

import pytest
from django.utils import timezone

from apps.engagement.models import FollowUpTask, MemberNote, MemberTag, Tag
from apps.engagement.services import follow_up_create_manual, note_add, tag_add
from tests.conftest import token_client
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def guide_api(org):
    return token_client(org.users["guide_sh01"])


def test_me_tells_role_store_follow_ups_and_recruit_links(org, guide_api):
    follow_up_create_manual(
        membership=org.members["G-SH01"], title="x", due_date=timezone.localdate(), user=None
    )

    me = guide_api.get("/api/v1/me/").json()

    assert me["roles"] == ["guide"]
    assert me["employee_no"] == "G-SH01" and me["store"]["code"] == "SH01"
    assert me["follow_ups_today"] == 1
    assert {(link["kind"], link["brand"]) for link in me["recruit_links"]} == {
        ("guide", "AUR"),
        ("guide", "BOR"),
    }
    assert all("/join/" in link["url"] for link in me["recruit_links"])


def test_my_members_are_scoped_masked_and_filtered(org, guide_api):
    mine = org.members["G-SH01"]
    tag_add(membership=mine, name="VIP", user=None)

    everything = guide_api.get("/api/v1/me/members/").json()
    by_tag = guide_api.get("/api/v1/me/members/", {"tag": Tag.objects.get().pk}).json()
    unknown = guide_api.get("/api/v1/me/members/", {"colour": "blue"})
    bad_brand = guide_api.get("/api/v1/me/members/", {"brand": "NOPE"})

    assert [m["id"] for m in everything["results"]] == [mine.pk]
    card = everything["results"][0]
    assert card["phone"] == "138****0002" and card["tags"] == ["VIP"]
    assert card["spend_12m"] == "0.00" and card["last_purchase"] is None
    assert by_tag["count"] == 1
    assert unknown.status_code == 400 and "colour" in unknown.json()
    assert bad_brand.status_code == 400 and "brand" in bad_brand.json()


def test_hq_reads_full_phones(org, hq_client):
    cards = hq_client.get("/api/v1/me/members/").json()["results"]

    assert {card["phone"] for card in cards} == {m.customer.phone for m in org.members.values()}


def test_my_members_query_count_is_pinned(org, guide_api, django_assert_num_queries):
    guide = org.guides["G-SH01"]
    for _ in range(4):
        membership = MembershipFactory(guide=guide)
        tag_add(membership=membership, name="新客", user=None)
        tag_add(membership=membership, name="VIP", user=None)

    # token with its user, groups, guide (the scope); count, rows, tags
    with django_assert_num_queries(6):
        answer = guide_api.get("/api/v1/me/members/")
    assert answer.json()["count"] == 5


def test_follow_ups_list_done_and_skip(org, guide_api, django_assert_num_queries):
    mine = org.members["G-SH01"]
    today = timezone.localdate()
    first = follow_up_create_manual(membership=mine, title="a", due_date=today, user=None)
    second = follow_up_create_manual(membership=mine, title="b", due_date=today, user=None)
    follow_up_create_manual(membership=org.members["G-SH02"], title="c", due_date=today, user=None)

    with django_assert_num_queries(5):  # token, groups, guide; count, rows
        listed = guide_api.get("/api/v1/follow-ups/").json()
    done = guide_api.post(f"/api/v1/follow-ups/{first.pk}/done/", {"outcome_note": "买了"})
    skip = guide_api.post(f"/api/v1/follow-ups/{second.pk}/skip/", {})
    bad_status = guide_api.get("/api/v1/follow-ups/", {"status": "late"})

    assert [t["id"] for t in listed["results"]] == [first.pk, second.pk]
    assert listed["results"][0]["member_name"] == mine.customer.name
    assert done.status_code == 200 and done.json()["status"] == "done"
    assert skip.status_code == 400 and "outcome_note" in skip.json()
    assert bad_status.status_code == 400
    other = FollowUpTask.objects.get(membership=org.members["G-SH02"])
    assert guide_api.post(f"/api/v1/follow-ups/{other.pk}/done/", {}).status_code == 404


def test_notes_are_scoped_like_members(org, guide_api, django_assert_num_queries):
    mine, theirs = org.members["G-SH01"], org.members["G-SH02"]
    note_add(membership=mine, body="旧", user=org.users["hq"])

    created = guide_api.post("/api/v1/notes/", {"member": mine.pk, "body": "喜欢蓝色"})
    refused = guide_api.post("/api/v1/notes/", {"member": theirs.pk, "body": "x"})
    with django_assert_num_queries(5):
        listed = guide_api.get("/api/v1/notes/", {"member": mine.pk}).json()
    missing = guide_api.get("/api/v1/notes/")

    assert created.status_code == 201
    assert created.json()["author_name"] == org.guides["G-SH01"].name
    assert refused.status_code == 400 and "member" in refused.json()
    assert [n["body"] for n in listed["results"]] == ["喜欢蓝色", "旧"]
    assert missing.status_code == 400
    assert MemberNote.objects.filter(membership=theirs).count() == 0


def test_tags_are_added_listed_and_removed(org, guide_api, django_assert_num_queries):
    mine = org.members["G-SH01"]
    Tag.objects.create(brand=mine.brand, name="官方", is_official=True)

    added = guide_api.post("/api/v1/member-tags/", {"member": mine.pk, "name": " 爱  跑步 "})
    with django_assert_num_queries(5):
        tags = guide_api.get("/api/v1/tags/", {"brand": mine.brand.code}).json()
    with django_assert_num_queries(5):
        links = guide_api.get("/api/v1/member-tags/", {"member": mine.pk}).json()
    removed = guide_api.delete(f"/api/v1/member-tags/{added.json()['id']}/")

    assert added.status_code == 201 and added.json()["name"] == "爱 跑步"
    assert [t["name"] for t in tags["results"]] == ["官方", "爱 跑步"]
    assert [link["name"] for link in links["results"]] == ["爱 跑步"]
    assert removed.status_code == 204
    assert not MemberTag.objects.exists()


def test_anonymous_callers_get_401(anon_client):
    for path in ["/api/v1/me/", "/api/v1/me/members/", "/api/v1/follow-ups/", "/api/v1/tags/"]:
        assert anon_client.get(path).status_code == 401, path


def test_date_to_filters_by_due_date_and_names_a_bad_date(org, guide_api):
    mine = org.members["G-SH01"]
    today = timezone.localdate()
    follow_up_create_manual(membership=mine, title="a", due_date=today, user=None)
    follow_up_create_manual(
        membership=mine, title="b", due_date=today + dt.timedelta(days=5), user=None
    )

    soon = guide_api.get("/api/v1/follow-ups/", {"date_to": today.isoformat()}).json()
    bad = guide_api.get("/api/v1/follow-ups/", {"date_to": "tomorrow"})

    assert [t["title"] for t in soon["results"]] == ["a"]
    assert bad.status_code == 400 and "date_to" in bad.json()


def test_guides_list_only_their_stores_brands_tags(org, guide_api):
    Tag.objects.create(brand=org.brands[0], name="VIP", is_official=True)
    elsewhere = Tag.objects.create(
        brand=MembershipFactory().brand, name="别的品牌", is_official=True
    )

    names = [t["name"] for t in guide_api.get("/api/v1/tags/").json()["results"]]

    assert "VIP" in names and elsewhere.name not in names
