"""API shapes of follow-ups, notes and tags."""

from rest_framework import serializers

from apps.core.scoping import mask_phone
from apps.engagement.models import FollowUpTask, MemberNote, MemberTag, Tag


def member_label(membership, *, mask: bool) -> str:
    phone = membership.customer.phone
    return membership.customer.name or (mask_phone(phone) if mask else phone)


class FollowUpSerializer(serializers.ModelSerializer):
    member = serializers.IntegerField(source="membership_id", read_only=True)
    member_name = serializers.SerializerMethodField()
    brand = serializers.CharField(source="membership.brand.code", read_only=True)
    guide = serializers.SlugRelatedField(slug_field="employee_no", read_only=True, allow_null=True)

    class Meta:
        model = FollowUpTask
        fields = [
            "id", "member", "member_name", "brand", "guide", "kind", "title", "due_date",
            "status", "outcome_note", "closed_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_member_name(self, task) -> str:
        return member_label(task.membership, mask=self.context.get("mask_phones", True))


class FollowUpCloseSerializer(serializers.Serializer):
    outcome_note = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default=""
    )


class NoteSerializer(serializers.ModelSerializer):
    member = serializers.IntegerField(source="membership_id")

    class Meta:
        model = MemberNote
        fields = ["id", "member", "body", "author_name", "created_at"]
        read_only_fields = ["id", "author_name", "created_at"]
        extra_kwargs = {"body": {"max_length": 2000}}


class TagSerializer(serializers.ModelSerializer):
    brand = serializers.CharField(source="brand.code", read_only=True)

    class Meta:
        model = Tag
        fields = ["id", "brand", "name", "is_official"]
        read_only_fields = fields


class MemberTagSerializer(serializers.ModelSerializer):
    member = serializers.IntegerField(source="membership_id")
    name = serializers.CharField(source="tag.name", max_length=32)

    class Meta:
        model = MemberTag
        fields = ["id", "member", "name", "added_at"]
        read_only_fields = ["id", "added_at"]
