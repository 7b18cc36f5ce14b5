"""API entry points of brands, regions and stores."""

from django.utils.translation import gettext_lazy as _

from apps.core.api import MasterDataViewSet
from apps.core.schema import master_data_schema
from apps.stores import services
from apps.stores.filters import RegionFilter, StoreFilter
from apps.stores.models import Brand, Region
from apps.stores.selectors import store_list
from apps.stores.serializers import BrandSerializer, RegionSerializer, StoreSerializer


@master_data_schema(
    plural=_("Brands, by code."),
    singular=_("One brand, by its code."),
    created=_("Add a brand."),
    replaced=_("Replace a brand's fields (the code stays)."),
    changed=_("Change some of a brand's fields (the code stays)."),
    create={"code": "AUR", "name": "极光", "max_assign_km": 50},
    answer={
        "code": "AUR",
        "name": "极光",
        "max_assign_km": 50,
        "created_at": "2026-03-10T10:30:00+08:00",
    },
    change={"max_assign_km": 30},
)
class BrandViewSet(MasterDataViewSet):
    queryset = Brand.objects.all()
    serializer_class = BrandSerializer
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    search_fields = ["code", "name"]
    ordering_fields = ["code", "name"]
    list_date = None  # brands carry no date
    create_service = staticmethod(services.brand_create)
    update_service = staticmethod(services.brand_update)
    instance_kwarg = "brand"


@master_data_schema(
    plural=_("Regions, a tree by ``parent`` (filter ``parent``)."),
    singular=_("One region, by its code."),
    created=_("Add a region."),
    replaced=_("Replace a region's fields (the code stays)."),
    changed=_("Change some of a region's fields, e.g. move it under another parent."),
    create={"code": "SH", "name": "上海区", "parent": "EAST"},
    answer={"code": "SH", "name": "上海区", "parent": "EAST"},
    change={"name": "上海大区"},
)
class RegionViewSet(MasterDataViewSet):
    queryset = Region.objects.select_related("parent")
    serializer_class = RegionSerializer
    filterset_class = RegionFilter
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    ordering_fields = ["code", "name"]
    list_date = None  # regions carry no date
    create_service = staticmethod(services.region_create)
    update_service = staticmethod(services.region_update)
    instance_kwarg = "region"


STORE_ANSWER = {
    "code": "SH01",
    "name": "上海南京西路店",
    "brands": ["AUR"],
    "kind": "direct",
    "region": "SH",
    "address": "上海市静安区南京西路1618号",
    "city": "上海",
    "latitude": 31.2264617,
    "longitude": 121.4511428,
    "is_active": True,
    "service_radius_km": 5.0,
    "created_at": "2026-03-10T10:30:00+08:00",
    "updated_at": "2026-03-10T10:30:00+08:00",
}


@master_data_schema(
    plural=_(
        "Stores (filters: brand, region with its sub-regions, city, kind, is_active, q: "
        "code or name contains); staff below HQ see their own stores."
    ),
    singular=_("One store, by its code."),
    created=_("Add a store; its location may be sent in GCJ-02 or BD-09 (``coord_system``)."),
    replaced=_("Replace a store's fields (the code stays)."),
    changed=_("Change some of a store's fields; ``is_active: false`` closes it."),
    create={
        "code": "SH01",
        "name": "上海南京西路店",
        "brands": ["AUR"],
        "kind": "direct",
        "region": "SH",
        "address": "上海市静安区南京西路1618号",
        "city": "上海",
        "latitude": 31.224447,
        "longitude": 121.455704,
        "coord_system": "gcj02",
        "service_radius_km": 5.0,
    },
    answer=STORE_ANSWER,
    change={"is_active": False},
)
class StoreViewSet(MasterDataViewSet):
    queryset = store_list()
    serializer_class = StoreSerializer
    filterset_class = StoreFilter
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    ordering_fields = ["code", "name", "city"]
    list_date = None  # stores carry no date
    create_service = staticmethod(services.store_create)
    update_service = staticmethod(services.store_update)
    instance_kwarg = "store"
    scoped = True
    scope_store_path = "pk"
    scope_guide_path = "guides"
