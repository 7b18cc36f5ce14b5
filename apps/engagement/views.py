"""API entry points of follow-ups, notes and tags, scoped like the admin."""

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.listing import ListDate, allowed_query_params, query_params_refuse_unknown
from apps.core.schema import READ_ANY_ROLE, write_examples
from apps.core.scoping import scope_for_request, scope_queryset
from apps.engagement import selectors, services
from apps.engagement.models import FollowUpTask, MemberNote, MemberTag, Tag
from apps.engagement.serializers import (
    FollowUpCloseSerializer,
    FollowUpSerializer,
    MemberTagSerializer,
    NoteSerializer,
    TagSerializer,
)
from apps.stores.models import Store


class ScopedMixin:
    extra_query_params: tuple[str, ...] = ()
    list_date: ListDate | None = None

    def scope(self):
        return scope_for_request(self.request)

    def list(self, request, *args, **kwargs):
        # Before get_queryset, which reads some of them.
        query_params_refuse_unknown(request, allowed_query_params(self, request))
        return super().list(request, *args, **kwargs)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self, "request", None) is not None and self.request.user.is_authenticated:
            context["mask_phones"] = self.scope().masks_phones
        return context

    def member_in_scope(self, membership_id: int):
        membership = selectors.member_get(scope=self.scope(), membership_id=membership_id)
        if membership is None:
            raise serializers.ValidationError({"member": [_("No such member.")]})
        return membership


FOLLOW_UP = {
    "id": 501,
    "member": 42,
    "member_name": "韩梅梅",
    "brand": "AUR",
    "guide": "E0001",
    "kind": "birthday",
    "title": "生日祝福并邀请到店领取礼品",
    "due_date": "2026-03-10",
    "status": "done",
    "outcome_note": "已电话联系，周末到店",
    "closed_at": "2026-03-10T15:20:00+08:00",
}
SCOPE = _(
    "A guide's own, a store manager's store, a region manager's regions; HQ and "
    "integrations everything."
)


@extend_schema_view(
    list=extend_schema(
        description=format_lazy("{} {}", _("The caller's follow-ups, by due date."), SCOPE),
        parameters=[
            OpenApiParameter(
                "status",
                enum=[s.value for s in FollowUpTask.Status],
                description=_("open (the default), done or skipped."),
            )
        ],
    ),
    retrieve=extend_schema(description=format_lazy("{} {}", _("One follow-up."), SCOPE)),
)
class FollowUpViewSet(ScopedMixin, viewsets.ReadOnlyModelViewSet):
    """The caller's follow-ups (a guide's own, a store's, a region's); done or skip them."""

    serializer_class = FollowUpSerializer
    extra_query_params = ("status",)
    list_date = ListDate("due_date", _("the day the follow-up is due"))
    ordering_fields = ["due_date", "id"]

    def get_queryset(self):
        wanted = self.request.query_params.get("status", FollowUpTask.Status.OPEN)
        if self.action == "list" and wanted not in FollowUpTask.Status.values:
            raise serializers.ValidationError(
                {
                    "status": [
                        _("'%(value)s' is not a valid choice. Choose from: %(choices)s.")
                        % {"value": wanted[:64], "choices": ", ".join(FollowUpTask.Status.values)}
                    ]
                }
            )
        tasks = selectors.follow_up_list(
            scope=self.scope(), status=wanted if self.action == "list" else None
        )
        return tasks

    def _close(self, request, status_value):
        task = self.get_object()
        body = FollowUpCloseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        task = services.follow_up_close(
            task=task, status=status_value, outcome_note=body.validated_data["outcome_note"],
            user=request.user,
        )  # fmt: skip
        return Response(self.get_serializer(task).data)

    @extend_schema(
        request=FollowUpCloseSerializer,
        responses=FollowUpSerializer,
        description=format_lazy(
            "{} {}",
            _("Mark an open follow-up done, with an optional outcome note (a closed one: 400)."),
            SCOPE,
        ),
        examples=write_examples({"outcome_note": "已电话联系，周末到店"}, FOLLOW_UP, status="200"),
    )
    @action(detail=True, methods=["post"])
    def done(self, request, pk=None):
        """Mark the follow-up done, with an optional outcome note."""
        return self._close(request, FollowUpTask.Status.DONE)

    @extend_schema(
        request=FollowUpCloseSerializer,
        responses=FollowUpSerializer,
        description=format_lazy(
            "{} {}", _("Skip the follow-up; the outcome note says why (required)."), SCOPE
        ),
        examples=write_examples(
            {"outcome_note": "顾客已出国"},
            {**FOLLOW_UP, "status": "skipped", "outcome_note": "顾客已出国"},
            status="200",
        ),
    )
    @action(detail=True, methods=["post"])
    def skip(self, request, pk=None):
        """Skip the follow-up; the outcome note says why (required)."""
        return self._close(request, FollowUpTask.Status.SKIPPED)


NOTE = {"member": 42, "body": "喜欢浅色系，下次到货通知"}


@extend_schema_view(
    list=extend_schema(
        description=format_lazy(
            "{} {}", _("A member's notes, newest first (``?member=<id>``, required)."), SCOPE
        ),
        parameters=[
            OpenApiParameter("member", type=int, required=True, description=_("The member's id."))
        ],
    ),
    create=extend_schema(
        description=format_lazy(
            "{} {}", _("Add a note to a member the caller may read (each post adds one)."), SCOPE
        ),
        examples=write_examples(
            NOTE,
            {"id": 77, **NOTE, "author_name": "李娜", "created_at": "2026-03-10T15:20:00+08:00"},
        ),
    ),
)
class NoteViewSet(
    ScopedMixin, mixins.CreateModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet
):
    """A member's notes, newest first (``?member=<id>``); POST adds one."""

    serializer_class = NoteSerializer
    extra_query_params = ("member",)
    list_date = ListDate("created_at", _("the day the note was written"))
    ordering_fields = ["created_at", "id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return MemberNote.objects.none()
        notes = scope_queryset(
            MemberNote.objects.all(),
            self.scope(),
            store_field="membership__store",
            guide_field="membership__guide",
        ).order_by("-created_at", "-pk")
        if self.action == "list":
            member = self.request.query_params.get("member", "")
            if not member.isdigit():
                raise serializers.ValidationError({"member": [_("Give the member's id.")]})
            notes = notes.filter(membership_id=int(member))
        return notes

    def create(self, request, *args, **kwargs):
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        membership = self.member_in_scope(body.validated_data["membership_id"])
        note = services.note_add(
            membership=membership, body=body.validated_data["body"], user=request.user
        )
        return Response(self.get_serializer(note).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(
        description=format_lazy(
            "{} {}",
            _("Tags of the caller's brands: HQ's official ones first, then those guides added."),
            READ_ANY_ROLE,
        ),
        parameters=[OpenApiParameter("brand", type=str, description=_("Brand code"))],
    ),
    retrieve=extend_schema(description=format_lazy("{} {}", _("One tag."), READ_ANY_ROLE)),
)
class TagViewSet(ScopedMixin, viewsets.ReadOnlyModelViewSet):
    """Tags of brands: HQ's official ones first, then those guides added."""

    serializer_class = TagSerializer
    extra_query_params = ("brand",)
    ordering_fields = ["name", "id"]
    list_date = None  # a tag list is short; no date to filter on

    def get_queryset(self):
        tags = Tag.objects.select_related("brand").order_by("brand__code", "-is_official", "name")
        scope = self.scope()
        if not scope.everything:
            # The brands of the stores the caller works in.
            stores = scope_queryset(
                Store.objects.all(), scope, store_field="pk", guide_field="guides"
            )
            tags = tags.filter(brand__stores__in=stores.values("pk")).distinct()
        brand = self.request.query_params.get("brand")
        return tags.filter(brand__code=brand) if brand else tags


MEMBER_TAG = {"member": 42, "name": "高净值"}


@extend_schema_view(
    list=extend_schema(
        description=format_lazy("{} {}", _("Tags on members (``?member=<id>``)."), SCOPE),
        parameters=[OpenApiParameter("member", type=int, description=_("The member's id."))],
    ),
    create=extend_schema(
        description=format_lazy(
            "{} {}",
            _("Tag a member the caller may read; a new name becomes a tag of the brand."),
            SCOPE,
        ),
        examples=write_examples(
            MEMBER_TAG, {"id": 9, **MEMBER_TAG, "added_at": "2026-03-10T15:20:00+08:00"}
        ),
    ),
    destroy=extend_schema(
        description=format_lazy("{} {}", _("Take the tag off the member."), SCOPE)
    ),
)
class MemberTagViewSet(
    ScopedMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Tags on members. POST {member, name} tags a member (a new name becomes a tag)."""

    serializer_class = MemberTagSerializer
    extra_query_params = ("member",)
    list_date = ListDate("added_at", _("the day the tag was put on the member"))
    ordering_fields = ["added_at", "id"]

    def get_queryset(self):
        links = scope_queryset(
            MemberTag.objects.select_related("tag"),
            self.scope(),
            store_field="membership__store",
            guide_field="membership__guide",
        ).order_by("membership_id", "tag__name")
        member = self.request.query_params.get("member")
        if member is not None and self.action == "list":
            if not member.isdigit():
                raise serializers.ValidationError({"member": [_("Give the member's id.")]})
            links = links.filter(membership_id=int(member))
        return links

    def create(self, request, *args, **kwargs):
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        membership = self.member_in_scope(body.validated_data["membership_id"])
        link = services.tag_add(
            membership=membership, name=body.validated_data["tag"]["name"], user=request.user
        )
        return Response(self.get_serializer(link).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.tag_remove(membership=instance.membership, tag_id=instance.tag_id)
