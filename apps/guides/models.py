"""Shopping guides (导购) and store managers."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from apps.stores.models import Store


class Guide(models.Model):
    """A store's shopping guide (导购); a store manager is a guide who runs the store."""

    class Role(models.TextChoices):
        GUIDE = "guide", _("Guide")
        STORE_MANAGER = "store_manager", _("Store manager")

    employee_no = models.CharField(_("employee no."), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    store = models.ForeignKey(
        Store, verbose_name=_("store"), on_delete=models.PROTECT, related_name="guides"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.GUIDE)
    is_active = models.BooleanField(_("active"), default=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("login"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="guide",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Who changed what and when (status, region, role …), shown in the admin.
    history = HistoricalRecords(verbose_name=_("guide history"))

    class Meta:
        verbose_name = _("guide")
        verbose_name_plural = _("guides")
        ordering = ["employee_no"]
        indexes = [models.Index(fields=["store", "is_active"], name="guide_store_active_idx")]

    def __str__(self):
        return f"{self.name} ({self.employee_no})"
