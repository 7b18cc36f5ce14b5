import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

OUR_APPS = {"core", "stores", "guides", "customers", "commissions"}


def test_every_model_of_ours_is_in_the_admin():
    # django-simple-history's Historical* tables are shown on their model's history page.
    ours = [
        m
        for m in apps.get_models()
        if m._meta.app_label in OUR_APPS and not hasattr(m, "instance_type")
    ]
    shown_inline = {
        inline.model
        for model_admin in admin.site._registry.values()
        for inline in model_admin.inlines
    }

    missing = [
        m.__name__ for m in ours if not admin.site.is_registered(m) and m not in shown_inline
    ]

    assert missing == []


def test_every_admin_changelist_and_change_page_opens_for_a_superuser(client, some_of_everything):
    client.force_login(UserFactory(username="root", is_superuser=True))

    for model, _model_admin in admin.site._registry.items():
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = client.get(url)
        assert response.status_code == 200, url
        first = model._default_manager.first()
        if first is not None:
            url = reverse(
                f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[first.pk]
            )
            assert client.get(url).status_code == 200, url


@pytest.fixture
def some_of_everything(django_capture_on_commit_callbacks):
    from apps.customers.services import member_join
    from apps.stores.services import store_network_changed
    from tests.factories import BrandFactory, GuideFactory, StoreFactory

    brand = BrandFactory(code="AUR")
    store = StoreFactory(code="SH01", brands=[brand])
    GuideFactory(employee_no="E1", store=store)
    store_network_changed()
    with django_capture_on_commit_callbacks(execute=True):
        member_join(brand=brand, phone="13800000000", source="h5", latitude=31.23, longitude=121.47)
