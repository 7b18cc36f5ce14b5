"""The API of a guide's phone for a future mini-program: ``/me/`` and ``/me/members/``."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import ChoiceField, query_params_check
from apps.core.roles import user_roles
from apps.core.scoping import mask_phone, scope_for_request
from apps.customers.models import PersonalDataAccess
from apps.customers.services import personal_data_access_record
from apps.dashboards.pages import recruit_codes
from apps.engagement.selectors import DORMANT_DAYS_DEFAULT, follow_up_counts, member_list
from apps.stores.models import Brand


class RecruitLinkSerializer(serializers.Serializer):
    kind = ChoiceField(
        choices=["guide", "store"],
        help_text=_(
            "guide: sign-ups bind to the caller; store: to the nearest guide of the store."
        ),
    )
    brand = serializers.CharField(source="brand.code", help_text=_("Brand code."))
    url = serializers.URLField(help_text=_("The sign-up page the QR code opens."))


class MeSerializer(serializers.Serializer):
    username = serializers.CharField(help_text=_("The caller's login."))
    roles = serializers.ListField(
        child=serializers.CharField(),
        help_text=_("hq_ops, region_manager, store_manager, guide and/or integration."),
    )
    employee_no = serializers.CharField(
        allow_null=True, help_text=_("The caller's employee no. (null: not a guide).")
    )
    name = serializers.CharField(allow_blank=True, help_text=_("The caller's name."))
    store = serializers.DictField(
        allow_null=True, help_text=_("The caller's store as {code, name} (null: none).")
    )
    follow_ups_today = serializers.IntegerField(help_text=_("Open follow-ups due today."))
    follow_ups_overdue = serializers.IntegerField(help_text=_("Open follow-ups due before today."))
    recruit_links = RecruitLinkSerializer(
        many=True, help_text=_("The caller's recruiting QR codes' links (active guides only).")
    )


class MeView(APIView):
    """Who is calling: roles, staff record, store, today's follow-ups and recruiting links."""

    @extend_schema(
        responses=MeSerializer,
        description=_(
            "Who is calling: login, roles, staff record, store, today's and overdue follow-ups "
            "and recruiting links. Any signed-in role."
        ),
    )
    def get(self, request):
        guide = getattr(request.user, "guide", None)
        counts = follow_up_counts(scope=scope_for_request(request), today=timezone.localdate())
        body = {
            "username": request.user.get_username(),
            "roles": sorted(user_roles(request.user)),
            "employee_no": guide.employee_no if guide else None,
            "name": guide.name if guide else request.user.get_full_name(),
            "store": {"code": guide.store.code, "name": guide.store.name} if guide else None,
            "follow_ups_today": counts.today,
            "follow_ups_overdue": counts.overdue,
            "recruit_links": recruit_codes(request, guide=guide, with_images=False)
            if guide is not None and guide.is_active
            else [],
        }
        return Response(MeSerializer(body).data)


class MemberCardSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField(source="customer.name", help_text=_("The member's name."))
    phone = serializers.SerializerMethodField(
        help_text=_("Masked as 138****5678 unless the caller is HQ.")
    )
    brand = serializers.CharField(source="brand.code")
    store = serializers.CharField(source="store.code", allow_null=True)
    guide = serializers.CharField(source="guide.employee_no", allow_null=True)
    tags = serializers.SerializerMethodField(help_text=_("The member's tags."))
    last_purchase = serializers.DateField(
        allow_null=True, help_text=_("Business date of the last order (null: none).")
    )
    spend_12m = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        help_text=_("Net spend in the last 12 months, CNY, a decimal string with 2 places."),
    )
    next_follow_up = serializers.DateField(
        allow_null=True, help_text=_("Due date of the next open follow-up (null: none).")
    )
    bound_at = serializers.DateTimeField(
        allow_null=True, help_text=_("When the member was bound to their guide.")
    )

    def get_phone(self, membership) -> str:
        phone = membership.customer.phone
        return mask_phone(phone) if self.context.get("mask_phones", True) else phone

    def get_tags(self, membership) -> list[str]:
        return [link.tag.name for link in membership.tag_list]


class MemberQuerySerializer(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=50)
    brand = serializers.SlugRelatedField(
        slug_field="code", queryset=Brand.objects.all(), required=False
    )
    tag = serializers.IntegerField(required=False, min_value=1)
    no_purchase = serializers.BooleanField(
        required=False, default=False, help_text=_("Only members with no purchase for 90 days.")
    )


@extend_schema(
    description=_(
        "The caller's members as cards: tags, last purchase, 12 months' spend, next "
        "follow-up. A guide's own, a store manager's store, a region manager's regions; HQ "
        "everything. Phones are masked unless the caller is HQ."
    ),
    parameters=[
        OpenApiParameter("q", str, description=_("A name, or a full phone number")),
        OpenApiParameter("brand", str, description=_("Brand code")),
        OpenApiParameter("tag", int, description=_("Tag id")),
        OpenApiParameter("no_purchase", bool, description=_("No purchase for 90 days")),
    ],
)
class MyMembersView(generics.ListAPIView):
    """My members as cards: tags, last purchase, 12 months' spend, next follow-up."""

    serializer_class = MemberCardSerializer
    filter_backends = []

    def get_queryset(self):
        query_params_check(self.request, MemberQuerySerializer().fields)
        query = MemberQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        return member_list(
            scope=scope_for_request(self.request),
            today=timezone.localdate(),
            search=data.get("q", ""),
            brand_id=data["brand"].pk if data.get("brand") else None,
            tag_id=data.get("tag"),
            no_purchase_days=DORMANT_DAYS_DEFAULT if data["no_purchase"] else None,
        )

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.request.user.is_authenticated:
            context["mask_phones"] = scope_for_request(self.request).masks_phones
        return context

    def get_serializer(self, *args, **kwargs):
        serializer = super().get_serializer(*args, **kwargs)
        if args and not self.get_serializer_context().get("mask_phones", True):
            # HQ reading full numbers: one access record per page.
            personal_data_access_record(
                actor=self.request.user,
                kind=PersonalDataAccess.Kind.API,
                where=f"{self.request.method} {self.request.path}",
                customer_ids=[membership.customer_id for membership in args[0]],
                filters=self.request.query_params.dict(),
            )
        return serializer
