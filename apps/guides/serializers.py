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
        help_text=_("Username of the guide's login (null: none yet)."),
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
        extra_kwargs = {
            "employee_no": {"help_text": _("The guide's employee no., e.g. E0001; fixed once "
                                           "created.")},
            "name": {"help_text": _("The guide's name, e.g. 李娜.")},
            "role": {"help_text": _("guide, or store_manager (sees the whole store).")},
            "is_active": {"help_text": _("False: the guide left: their sessions and tokens "
                                         "end, their members move on; the record stays.")},
        }  # fmt: skip

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if data.get("phone") and self.context.get("mask_phones", True):
            data["phone"] = mask_phone(data["phone"])
        return data


class SetPasswordLinkRequestSerializer(serializers.Serializer):
    send_sms = serializers.BooleanField(
        default=False, help_text=_("Also text the link to the guide's phone.")
    )


class SetPasswordLinkSerializer(serializers.Serializer):
    username = serializers.CharField(help_text=_("The guide's login name."))
    url = serializers.URLField(
        help_text=_("One-time link to set the password; give it only to the guide.")
    )
    expires_at = serializers.DateTimeField(
        help_text=_("When the link stops working: ISO 8601 with its UTC offset.")
    )
    sent_by_sms = serializers.BooleanField(help_text=_("True: the link was also texted."))
