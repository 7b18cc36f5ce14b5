"""API shapes of follow-ups, notes and tags."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.core.scoping import mask_phone
from apps.engagement.models import FollowUpTask, MemberNote, MemberTag, Tag


def member_label(membership, *, mask: bool) -> str:
    phone = membership.customer.phone
    return membership.customer.name or (mask_phone(phone) if mask else phone)


class FollowUpSerializer(serializers.ModelSerializer):
    member = serializers.IntegerField(
        source="membership_id",
        read_only=True,
        help_text=_("Id of the member (a brand membership, as /api/v1/members/ lists it)."),
    )
    member_name = serializers.SerializerMethodField(
        help_text=_("The member's name, or their phone (masked unless the caller is HQ).")
    )
    brand = serializers.CharField(
        source="membership.brand.code", read_only=True, help_text=_("Brand code, e.g. AUR.")
    )
    guide = serializers.SlugRelatedField(slug_field="employee_no", read_only=True, allow_null=True)

    class Meta:
        model = FollowUpTask
        fields = [
            "id", "member", "member_name", "brand", "guide", "kind", "title", "due_date",
            "status", "outcome_note", "closed_at",
        ]  # fmt: skip
        read_only_fields = fields
        extra_kwargs = {
            "guide": {"help_text": _("Employee no. of the guide who should do it.")},
            "kind": {"help_text": _("Why it exists: welcome, after_purchase, birthday, dormant "
                                    "or manual.")},
            "title": {"help_text": _("What to do, in a line.")},
            "due_date": {"help_text": _("Day it is due: a calendar date in the server's time "
                                        "zone (Asia/Shanghai by default).")},
            "status": {"help_text": _("open (to do), done or skipped.")},
            "outcome_note": {"help_text": _("What came of it, written when done or skipped.")},
            "closed_at": {"help_text": _("When it was done or skipped (null: open); ISO 8601 "
                                         "with its UTC offset.")},
        }  # fmt: skip

    def get_member_name(self, task) -> str:
        return member_label(task.membership, mask=self.context.get("mask_phones", True))


class FollowUpCloseSerializer(serializers.Serializer):
    outcome_note = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("What came of it, up to 2,000 characters; required to skip."),
    )


class NoteSerializer(serializers.ModelSerializer):
    member = serializers.IntegerField(
        source="membership_id",
        help_text=_("Id of the member (a brand membership, as /api/v1/members/ lists it)."),
    )

    class Meta:
        model = MemberNote
        fields = ["id", "member", "body", "author_name", "created_at"]
        read_only_fields = ["id", "author_name", "created_at"]
        extra_kwargs = {
            "body": {"max_length": 2000, "help_text": _("The note, up to 2,000 characters.")},
            "author_name": {"help_text": _("Who wrote it, as their colleagues know them.")},
        }


class TagSerializer(serializers.ModelSerializer):
    brand = serializers.CharField(source="brand.code", read_only=True)

    class Meta:
        model = Tag
        fields = ["id", "brand", "name", "is_official"]
        read_only_fields = fields
        extra_kwargs = {
            "name": {"help_text": _("The tag, e.g. 高净值.")},
            "is_official": {"help_text": _("True: HQ's tag; false: one a guide added.")},
        }


class MemberTagSerializer(serializers.ModelSerializer):
    member = serializers.IntegerField(
        source="membership_id",
        help_text=_("Id of the member (a brand membership, as /api/v1/members/ lists it)."),
    )
    name = serializers.CharField(
        source="tag.name",
        max_length=32,
        help_text=_("The tag, up to 32 characters; a new name becomes a tag of the brand."),
    )

    class Meta:
        model = MemberTag
        fields = ["id", "member", "name", "added_at"]
        read_only_fields = ["id", "added_at"]
        extra_kwargs = {
            "added_at": {"help_text": _("When the tag was put on: ISO 8601 with its UTC offset.")}
        }
