from rest_framework.routers import DefaultRouter

from apps.customers.views import MembershipViewSet
from apps.guides.views import GuideViewSet
from apps.stores.views import BrandViewSet, RegionViewSet, StoreViewSet

router = DefaultRouter()
router.register("brands", BrandViewSet, basename="brand")
router.register("regions", RegionViewSet, basename="region")
router.register("stores", StoreViewSet, basename="store")
router.register("guides", GuideViewSet, basename="guide")
router.register("members", MembershipViewSet, basename="member")

app_name = "api"
urlpatterns = router.urls
