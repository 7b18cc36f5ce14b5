"""API entry points of guides."""

from apps.core.api import MasterDataViewSet
from apps.guides import services
from apps.guides.filters import GuideFilter
from apps.guides.models import Guide
from apps.guides.serializers import GuideSerializer


class GuideViewSet(MasterDataViewSet):
    queryset = Guide.objects.select_related("store", "user")
    serializer_class = GuideSerializer
    filterset_class = GuideFilter
    lookup_field = "employee_no"
    lookup_value_regex = "[^/]+"
    search_fields = ["employee_no", "name"]
    ordering_fields = ["employee_no", "name"]
    create_service = staticmethod(services.guide_create)
    update_service = staticmethod(services.guide_update)
    instance_kwarg = "guide"
    scoped = True
    scope_guide_path = "pk"
