"""Brands, HQ's region tree and the stores that carry the brands."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

CODE_MAX_LENGTH = 32
# How far a member may live from the store they are bound to, unless the brand
# says otherwise: beyond it nobody serves them in person (a member at a broken
# GPS fix, or abroad, is not a shopper of a store 10,000 km away).
DEFAULT_MAX_ASSIGN_KM = 500


class Brand(models.Model):
    code = models.CharField(_("code"), max_length=CODE_MAX_LENGTH, unique=True)
    name = models.CharField(_("name"), max_length=100)
    max_assign_km = models.PositiveIntegerField(
        _("farthest assignment (km)"),
        null=True,
        blank=True,
        default=DEFAULT_MAX_ASSIGN_KM,
        validators=[MinValueValidator(1)],
        help_text=_(
            "Members farther than this from every store of the brand stay unassigned "
            "(no store in range). Empty: no limit."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("brand")
        verbose_name_plural = _("brands")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_assign_km__isnull=True) | Q(max_assign_km__gt=0),
                name="brand_max_assign_km_positive",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"


class Region(models.Model):
    """A node of HQ's organisation tree: HQ → large region → small region."""

    code = models.CharField(_("code"), max_length=CODE_MAX_LENGTH, unique=True)
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent region"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    managers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("region managers"),
        blank=True,
        related_name="managed_regions",
    )

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(parent=models.F("pk")), name="region_not_own_parent"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"


class Store(models.Model):
    class Kind(models.TextChoices):
        DIRECT = "direct", _("Direct")
        FRANCHISE = "franchise", _("Franchise")
        DISTRIBUTOR = "distributor", _("Distributor")

    code = models.CharField(_("code"), max_length=CODE_MAX_LENGTH, unique=True)
    name = models.CharField(_("name"), max_length=200)
    brands = models.ManyToManyField(
        Brand, verbose_name=_("brands"), related_name="stores", blank=True
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.DIRECT)
    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="stores",
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    city = models.CharField(_("city"), max_length=64, blank=True, db_index=True)
    latitude = models.FloatField(
        _("latitude (WGS-84)"), validators=[MinValueValidator(-90), MaxValueValidator(90)]
    )
    longitude = models.FloatField(
        _("longitude (WGS-84)"), validators=[MinValueValidator(-180), MaxValueValidator(180)]
    )
    is_active = models.BooleanField(_("active"), default=True)
    service_radius_km = models.FloatField(
        _("service radius (km)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0.001)],
        help_text=_("Members farther away than this are not assigned here. Empty: no limit."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Who changed what and when (status, region, role …), shown in the admin.
    history = HistoricalRecords(verbose_name=_("store history"))

    class Meta:
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__gte=-90, latitude__lte=90), name="store_latitude_range"
            ),
            models.CheckConstraint(
                condition=Q(longitude__gte=-180, longitude__lte=180), name="store_longitude_range"
            ),
            models.CheckConstraint(
                condition=Q(service_radius_km__isnull=True) | Q(service_radius_km__gt=0),
                name="store_service_radius_positive",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"


class StoreNetworkVersion(models.Model):
    """A counter bumped by every change to which stores exist, where, and for which brands.

    Processes that keep an in-memory nearest-store index compare it with one
    cheap read before each assignment, so a store opening, closing or moving
    is seen by the very next assignment in every worker.
    """

    version = models.BigIntegerField(_("version"), default=0)

    class Meta:
        verbose_name = _("store network version")
        verbose_name_plural = _("store network version")

    def __str__(self):
        return str(self.version)
