"""API shapes of guides."""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.core.api import PhoneField, code_field
from apps.core.scoping import mask_phone
from apps.guides.models import Guide
from apps.stores.serializers import CodeImmutableMixin, store_code_field


def guide_employee_no_field(**kwargs) -> serializers.SlugRelatedField:
    """A guide named by their employee no. (writable)."""
    return code_field(
        Guide, slug_field="employee_no", unknown=_("Unknown guide employee no. '{value}'."),
        cache_lookups=True, **kwargs,
    )  # fmt: skip


class GuideSerializer(CodeImmutableMixin, serializers.ModelSerializer):
    immutable_fields = ("employee_no",)
    store = store_code_field()
    user = serializers.SlugRelatedField(
        slug_field="username",
        queryset=get_user_model().objects.all(),
        required=False,
        allow_null=True,
    )
    phone = PhoneField(required=False, allow_blank=True)

    class Meta:
        model = Guide
        fields = [
            "employee_no",
            "name",
            "phone",
            "store",
            "role",
            "is_active",
            "user",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if data.get("phone") and self.context.get("mask_phones", True):
            data["phone"] = mask_phone(data["phone"])
        return data


class SetPasswordLinkRequestSerializer(serializers.Serializer):
    send_sms = serializers.BooleanField(
        default=False, help_text="Also text the link to the guide's phone."
    )


class SetPasswordLinkSerializer(serializers.Serializer):
    username = serializers.CharField()
    url = serializers.URLField()
    expires_at = serializers.DateTimeField()
    sent_by_sms = serializers.BooleanField()
