"""API entry points of brands, regions and stores."""

from apps.core.api import MasterDataViewSet
from apps.stores import services
from apps.stores.filters import RegionFilter, StoreFilter
from apps.stores.models import Brand, Region
from apps.stores.selectors import store_list
from apps.stores.serializers import BrandSerializer, RegionSerializer, StoreSerializer


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
