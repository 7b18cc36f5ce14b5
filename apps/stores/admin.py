"""The stores admin: brands and regions (HQ), stores scoped by role."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from apps.core.admin_scoping import HQWritableModelAdmin, ReadOnlyAdminMixin, ScopedHistoryAdmin
from apps.stores.models import Brand, Region, Store, StoreNetworkVersion
from apps.stores.services import brand_update, store_changed


@admin.register(Brand)
class BrandAdmin(HQWritableModelAdmin):
    list_display = ["code", "name", "max_assign_km", "created_at"]
    search_fields = ["code", "name"]

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in form.changed_data}
        if change:
            brand_update(brand=obj, **fields)
        else:
            obj.save()


@admin.register(Region)
class RegionAdmin(HQWritableModelAdmin):
    list_display = ["code", "name", "parent"]
    list_filter = ["parent"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent"]
    filter_horizontal = ["managers"]


@admin.register(Store)
class StoreAdmin(ScopedHistoryAdmin):
    list_display = ["code", "name", "kind", "city", "region", "brand_codes", "is_active"]
    list_filter = ["is_active", "kind", "brands", "region", "city"]
    search_fields = ["code", "name", "city", "address"]
    autocomplete_fields = ["region"]
    filter_horizontal = ["brands"]
    list_select_related = ["region"]
    # A store manager's scope holds their store's id; a guide's reaches the
    # store through their own guide record.
    scope_store_path = "pk"
    scope_guide_path = "guides"

    def save_model(self, request, obj, form, change):
        obj._was_active = (
            change and Store.objects.filter(pk=obj.pk).values_list("is_active", flat=True).get()
        )
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        store_changed(store=form.instance, was_active=form.instance._was_active)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("brands")

    @admin.display(description=_("brands"))
    def brand_codes(self, store):
        return ", ".join(brand.code for brand in store.brands.all())


@admin.register(StoreNetworkVersion)
class StoreNetworkVersionAdmin(ReadOnlyAdminMixin, ModelAdmin):
    """Read-only: the counter moves by itself whenever stores change."""

    list_display = ["version"]
