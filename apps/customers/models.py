"""Customers (one per phone), their brand memberships and every move of a membership."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.core.scoping import mask_phone
from apps.guides.models import Guide
from apps.stores.models import Brand, Store


class Customer(models.Model):
    """One shopper, identified across channels by a normalised mainland mobile number."""

    phone = models.CharField(_("mobile phone"), max_length=11, unique=True)
    name = models.CharField(_("name"), max_length=100, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    erased_at = models.DateTimeField(
        _("erased at"),
        null=True,
        blank=True,
        help_text=_("Personal information erased: the phone is a pseudonym from then on."),
    )

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [
            # An erased customer's phone is the pseudonym ``x`` + 10 digits of
            # its id: unique, the same length, and no longer a number anyone has.
            models.CheckConstraint(
                condition=Q(phone__regex=r"^1[3-9][0-9]{9}$", erased_at__isnull=True)
                | Q(phone__regex=r"^x[0-9]{10}$", erased_at__isnull=False),
                name="customer_phone_normalised",
            ),
        ]

    def __str__(self):
        # The string form lands in admin titles, links, logs and history for
        # every role, so it never carries the full number; HQ operations read
        # it from the phone field.
        phone = mask_phone(self.phone)
        return f"{self.name} ({phone})" if self.name else phone


class Membership(models.Model):
    """A customer's membership of one brand, bound to a store and a guide."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ASSIGNED = "assigned", _("Assigned")
        UNASSIGNED = "unassigned", _("Unassigned")

    class UnassignedReason(models.TextChoices):
        NO_LOCATION = "no_location", _("No location given")
        NO_STORE_IN_RANGE = "no_store_in_range", _("No store in range")
        NO_GUIDE_AVAILABLE = "no_guide_available", _("No guide available in the store")

    class Source(models.TextChoices):
        MINI_PROGRAM = "mini_program", _("Mini-program")
        H5 = "h5", _("H5 / flagship-store page")
        POS = "pos", _("POS")
        STORE_QR = "store_qr", _("Store QR code")
        IMPORT = "import", _("Import")

    # Single-column indexes on customer, store and guide would repeat the
    # leading columns of the unique constraint and the composite indexes
    # below; every extra index is written again on each reassignment.
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="memberships",
        db_index=False,
    )
    brand = models.ForeignKey(
        Brand,
        verbose_name=_("brand"),
        on_delete=models.PROTECT,
        related_name="memberships",
        db_index=False,
    )
    store = models.ForeignKey(
        Store,
        verbose_name=_("store"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="memberships",
        db_index=False,
    )
    guide = models.ForeignKey(
        Guide,
        verbose_name=_("guide"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="memberships",
        db_index=False,
    )
    assignment_status = models.CharField(
        _("assignment status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    unassigned_reason = models.CharField(
        _("reason"), max_length=24, choices=UnassignedReason.choices, blank=True
    )
    distance_km = models.FloatField(_("distance (km)"), null=True, blank=True)
    latitude = models.FloatField(
        _("latitude (WGS-84)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.FloatField(
        _("longitude (WGS-84)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    requested_store = models.ForeignKey(
        Store,
        verbose_name=_("store asked for"),
        help_text=_("The store of the QR code the member joined through."),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    requested_guide = models.ForeignKey(
        Guide,
        verbose_name=_("guide asked for"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    joined_at = models.DateTimeField(_("joined at"))
    bound_at = models.DateTimeField(_("bound at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Stamped here as well as on the consent rows: every list of members for
    # marketing use (guides' lists, follow-ups, exports) filters on it.
    consent_withdrawn_at = models.DateTimeField(_("consent withdrawn at"), null=True, blank=True)
    consent_withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("withdrawal recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    erased_at = models.DateTimeField(_("erased at"), null=True, blank=True)
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("erased by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        help_text=_("Empty for an erasure by the retention job."),
    )
    # A database default as well: the bulk paths insert memberships in SQL.
    rejoined_after_erasure = models.BooleanField(
        _("joined again after an erasure"),
        default=False,
        db_default=False,
        help_text=_("Recognised by a salted hash of the phone, where the brand keeps one."),
    )

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        # Newest first by id: ids follow joining order, and an index on
        # joined_at would be rewritten by every reassignment for nothing.
        ordering = ["-pk"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "brand"], name="membership_one_per_brand"),
            models.CheckConstraint(
                condition=(Q(latitude__isnull=True) & Q(longitude__isnull=True))
                | (
                    Q(latitude__gte=-90, latitude__lte=90)
                    & Q(longitude__gte=-180, longitude__lte=180)
                ),
                name="membership_location_valid",
            ),
            models.CheckConstraint(
                condition=Q(guide__isnull=True) | Q(store__isnull=False),
                name="membership_guide_needs_store",
            ),
            models.CheckConstraint(
                condition=~Q(assignment_status="assigned") | Q(store__isnull=False),
                name="membership_assigned_has_store",
            ),
            models.CheckConstraint(
                condition=(
                    Q(assignment_status="pending", unassigned_reason="")
                    | Q(assignment_status="assigned", guide__isnull=False, unassigned_reason="")
                    | Q(
                        assignment_status="assigned",
                        guide__isnull=True,
                        unassigned_reason="no_guide_available",
                    )
                    | Q(
                        assignment_status="unassigned",
                        store__isnull=True,
                        unassigned_reason__in=["no_location", "no_store_in_range"],
                    )
                ),
                name="membership_status_matches_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["guide", "brand"], name="membership_guide_brand_idx"),
            models.Index(fields=["store", "brand"], name="membership_store_brand_idx"),
            models.Index(
                fields=["joined_at"],
                condition=Q(assignment_status="pending"),
                name="membership_pending_idx",
            ),
            # Few members join by QR code; these partial indexes stay small and
            # let a store or guide row be checked for references (on delete)
            # without scanning every membership.
            models.Index(
                fields=["requested_store"],
                condition=Q(requested_store__isnull=False),
                name="membership_req_store_idx",
            ),
            models.Index(
                fields=["requested_guide"],
                condition=Q(requested_guide__isnull=False),
                name="membership_req_guide_idx",
            ),
        ]

    def __str__(self):
        return f"{self.customer} @ {self.brand.code}"


class AssignmentEvent(models.Model):
    """Append-only history of every store/guide change of a membership.

    Its references carry no database foreign-key checks (and only the
    membership one an index): bulk moves write the log a hundred thousand rows
    at a time, where each check would cost a lookup and a row lock at commit;
    rows are only ever written beside the membership change they record, and
    stores and guides are deactivated, never deleted.
    """

    class Reason(models.TextChoices):
        NEW_MEMBER = "new_member", _("New member")
        EXPLICIT = "explicit", _("Explicit store / guide (QR code)")
        STORE_CLOSED = "store_closed", _("Store closed")
        GUIDE_LEFT = "guide_left", _("Guide left")
        REBALANCED = "rebalanced", _("Rebalanced")
        MANUAL = "manual", _("Manual")

    membership = models.ForeignKey(
        Membership,
        verbose_name=_("membership"),
        on_delete=models.CASCADE,
        related_name="events",
        db_constraint=False,
    )
    from_store = models.ForeignKey(
        Store,
        verbose_name=_("from store"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    from_guide = models.ForeignKey(
        Guide,
        verbose_name=_("from guide"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    to_store = models.ForeignKey(
        Store,
        verbose_name=_("to store"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    to_guide = models.ForeignKey(
        Guide,
        verbose_name=_("to guide"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        verbose_name = _("assignment event")
        verbose_name_plural = _("assignment events")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.membership_id}: {self.from_guide_id} → {self.to_guide_id} ({self.reason})"


class PrivacyNotice(models.Model):
    """A version of a brand's privacy notice, shown to shoppers before they consent.

    Versions are appended, never edited once a member consented to them: the
    consent names the exact text the member read.
    """

    brand = models.ForeignKey(
        Brand, verbose_name=_("brand"), on_delete=models.PROTECT, related_name="privacy_notices"
    )
    version = models.CharField(_("version"), max_length=32)
    title = models.CharField(_("title (Chinese)"), max_length=200)
    body = models.TextField(_("text (Chinese)"))
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    body_en = models.TextField(_("text (English)"), blank=True)
    published_at = models.DateTimeField(_("published at"))

    class Meta:
        verbose_name = _("privacy notice")
        verbose_name_plural = _("privacy notices")
        ordering = ["brand", "-published_at"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "version"], name="notice_version_once"),
        ]

    def __str__(self):
        return f"{self.brand.code} {self.version}"


class MembershipConsent(models.Model):
    """A member's recorded consent to the processing of their personal information (PIPL).

    One row per membership and purpose: what they agreed to (the notice
    version), when, through which channel and, for consent taken by staff,
    who took it. A withdrawal is stamped on the row, never deleted.
    """

    class Purpose(models.TextChoices):
        MEMBERSHIP = "membership", _("Membership and contact by the guide")

    class Channel(models.TextChoices):
        SIGNUP_PAGE = "signup_page", _("Sign-up page (QR code)")
        MINI_PROGRAM = "mini_program", _("Mini-program")
        IN_STORE = "in_store", _("In store, taken by staff")
        POS = "pos", _("POS")
        IMPORT = "import", _("Import")
        ADMIN = "admin", _("HQ admin")

    membership = models.ForeignKey(
        Membership, verbose_name=_("membership"), on_delete=models.CASCADE, related_name="consents"
    )
    purpose = models.CharField(
        _("purpose"), max_length=16, choices=Purpose.choices, default=Purpose.MEMBERSHIP
    )
    notice = models.ForeignKey(
        PrivacyNotice,
        verbose_name=_("privacy notice"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="consents",
    )
    notice_version = models.CharField(_("notice version"), max_length=32)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    captured_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("taken by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Empty: the member consented themselves."),
    )
    consented_at = models.DateTimeField(_("consented at"))
    included_location = models.BooleanField(_("location shared"), default=False)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-consented_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["membership", "purpose"],
                condition=Q(withdrawn_at__isnull=True),
                name="consent_one_standing_per_purpose",
            ),
        ]

    def __str__(self):
        return f"{self.membership_id} {self.purpose} {self.notice_version}"


class BrandPrivacyPolicy(models.Model):
    """How a brand handles its members' personal information: consent, re-joins, retention."""

    brand = models.OneToOneField(
        Brand, verbose_name=_("brand"), on_delete=models.CASCADE, related_name="privacy_policy"
    )
    consent_required = models.BooleanField(
        _("consent required"),
        default=False,
        help_text=_("API sign-ups must name the privacy notice version the member accepted."),
    )
    recognise_rejoins = models.BooleanField(
        _("recognise re-joins after erasure"),
        default=False,
        help_text=_(
            "Keep a salted hash of an erased member's phone, so that joining again is "
            "recognised (e.g. for one-time welcome gifts). The number itself is never kept."
        ),
    )
    retention_months = models.PositiveSmallIntegerField(
        _("retention (months)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(1200)],
        help_text=_(
            "Erase members with no purchase and no sign-in for this many months. Empty: keep them."
        ),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("privacy policy")
        verbose_name_plural = _("privacy policies")
        ordering = ["brand"]
        constraints = [
            models.CheckConstraint(
                condition=Q(retention_months__isnull=True) | Q(retention_months__gte=1),
                name="privacy_retention_positive",
            ),
        ]

    def __str__(self):
        return str(self.brand)


class ErasedPhone(models.Model):
    """A salted hash of an erased member's phone, kept where the brand recognises re-joins."""

    brand = models.ForeignKey(
        Brand, verbose_name=_("brand"), on_delete=models.CASCADE, related_name="+"
    )
    phone_hash = models.CharField(_("phone hash"), max_length=64)
    erased_at = models.DateTimeField(_("erased at"))

    class Meta:
        verbose_name = _("erased phone hash")
        verbose_name_plural = _("erased phone hashes")
        constraints = [
            models.UniqueConstraint(fields=["brand", "phone_hash"], name="erased_phone_once"),
        ]

    def __str__(self):
        return f"{self.brand_id}: {self.phone_hash[:12]}…"


class PersonalDataAccess(models.Model):
    """One view of members' full phone numbers or birthdays: who, when, where, how many.

    Append-only: written by ``personal_data_access_record`` and never changed;
    the admin shows it read-only and nobody may delete it there.
    """

    class Kind(models.TextChoices):
        ADMIN_DETAIL = "admin_detail", _("Admin: member page")
        ADMIN_LIST = "admin_list", _("Admin: member list")
        API = "api", _("API response")
        EXPORT = "export", _("Export")
        PHONE_PAGE = "phone_page", _("Phone page")

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField(_("user name"), max_length=150)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    where = models.CharField(_("screen or endpoint"), max_length=200)
    customer_ids = models.JSONField(_("customer ids"), default=list)
    row_count = models.PositiveIntegerField(_("rows"))
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data accesses")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.actor_name} · {self.where} · {self.row_count}"


class RetentionRun(models.Model):
    """One run of the retention job for a brand: what it found and, unless a dry run, erased."""

    brand = models.ForeignKey(
        Brand, verbose_name=_("brand"), on_delete=models.CASCADE, related_name="+"
    )
    dry_run = models.BooleanField(_("dry run"))
    cutoff = models.DateTimeField(_("inactive since"))
    found = models.PositiveIntegerField(_("members found"))
    erased = models.PositiveIntegerField(_("members erased"), default=0)
    membership_ids = models.JSONField(_("member ids"), default=list, blank=True)
    created_at = models.DateTimeField(_("run at"), auto_now_add=True)

    class Meta:
        verbose_name = _("retention run")
        verbose_name_plural = _("retention runs")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.brand_id} {self.created_at:%Y-%m-%d} {self.found}/{self.erased}"
