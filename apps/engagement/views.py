"""API entry points of follow-ups, notes and tags, scoped like the admin."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.listing import ListDate, allowed_query_params, query_params_refuse_unknown
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


@extend_schema(
    parameters=[
        OpenApiParameter("status", enum=[s.value for s in FollowUpTask.Status]),
    ]
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

    @extend_schema(request=FollowUpCloseSerializer, responses=FollowUpSerializer)
    @action(detail=True, methods=["post"])
    def done(self, request, pk=None):
        """Mark the follow-up done, with an optional outcome note."""
        return self._close(request, FollowUpTask.Status.DONE)

    @extend_schema(request=FollowUpCloseSerializer, responses=FollowUpSerializer)
    @action(detail=True, methods=["post"])
    def skip(self, request, pk=None):
        """Skip the follow-up; the outcome note says why (required)."""
        return self._close(request, FollowUpTask.Status.SKIPPED)


@extend_schema(parameters=[OpenApiParameter("member", type=int, required=True)])
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


@extend_schema(parameters=[OpenApiParameter("brand", type=str, description="Brand code")])
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


@extend_schema(parameters=[OpenApiParameter("member", type=int)])
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
