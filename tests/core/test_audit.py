"""Who changed a store's or guide's status, and when, is kept and shown to HQ."""

import pytest
from django.test import Client

from tests.conftest import token_client

pytestmark = pytest.mark.django_db


def test_api_status_change_is_kept_with_who_made_it(org):
    client = token_client(org.users["hq"])

    client.patch("/api/v1/stores/BJ01/", {"is_active": False})
    client.patch("/api/v1/guides/G-SH02/", {"is_active": False})

    store_change = org.stores["BJ01"].history.first()
    guide_change = org.guides["G-SH02"].history.first()
    assert (store_change.is_active, store_change.history_user) == (False, org.users["hq"])
    assert (guide_change.is_active, guide_change.history_user) == (False, org.users["hq"])
    assert store_change.history_type == "~"


def test_hq_reads_the_history_in_the_admin(org):
    client = Client()
    client.force_login(org.users["hq"])
    token_client(org.users["hq"]).patch("/api/v1/stores/SH01/", {"is_active": False})

    response = client.get(f"/admin/stores/store/{org.stores['SH01'].pk}/history/")

    assert response.status_code == 200
    assert "hq" in response.content.decode()


@pytest.mark.parametrize("role", ["region_east", "manager_sh01", "guide_sh01"])
def test_history_is_for_hq_only(org, role):
    client = Client()
    client.force_login(org.users[role])

    store = client.get(f"/admin/stores/store/{org.stores['SH01'].pk}/history/")
    guide = client.get(f"/admin/guides/guide/{org.guides['G-SH01'].pk}/history/")

    assert (store.status_code, guide.status_code) == (403, 403)


@pytest.mark.parametrize(("role", "shown"), [("hq", True), ("guide_sh01", False)])
def test_history_button_only_where_it_opens(org, role, shown):
    client = Client()
    client.force_login(org.users[role])
    store = org.stores["SH01"]

    html = client.get(f"/admin/stores/store/{store.pk}/change/").content.decode()

    assert (f"/admin/stores/store/{store.pk}/history/" in html) is shown
