"""Keeping in touch with members: follow-up rules and tasks, tags and notes."""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.customers.models import Membership
from apps.guides.models import Guide
from apps.stores.models import Brand


class FollowUpKind(models.TextChoices):
    WELCOME = "welcome", _("Welcome")
    AFTER_PURCHASE = "after_purchase", _("After a purchase")
    BIRTHDAY = "birthday", _("Birthday")
    DORMANT = "dormant", _("Dormant member")
    MANUAL = "manual", _("Manual task")


# What ``FollowUpRule.days`` means per kind, and its default.
RULE_DAY_DEFAULTS = {
    FollowUpKind.WELCOME: 1,  # due this many days after binding
    FollowUpKind.AFTER_PURCHASE: 7,  # due this many days after the purchase
    FollowUpKind.BIRTHDAY: 0,  # due this many days before the birthday
    FollowUpKind.DORMANT: 90,  # no purchase for this many days
}


class FollowUpRule(models.Model):
    """When a brand's guides get a follow-up task: one rule per brand and kind, edited by HQ."""

    brand = models.ForeignKey(
        Brand, verbose_name=_("brand"), on_delete=models.CASCADE, related_name="follow_up_rules"
    )
    kind = models.CharField(
        _("kind"),
        max_length=16,
        choices=[c for c in FollowUpKind.choices if c[0] != FollowUpKind.MANUAL],
    )
    days = models.PositiveSmallIntegerField(
        _("days"),
        validators=[MaxValueValidator(3650)],
        help_text=_(
            "Welcome: due this many days after binding (1 = within 24 h). After a purchase: "
            "due this many days after it. Birthday: this many days before. Dormant: no "
            "purchase for this many days."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("follow-up rule")
        verbose_name_plural = _("follow-up rules")
        ordering = ["brand", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "kind"], name="follow_up_rule_once_per_kind"),
            models.CheckConstraint(
                condition=~Q(kind="dormant") | Q(days__gte=1), name="follow_up_dormant_days"
            ),
        ]

    def __str__(self):
        return f"{self.brand.code}: {self.get_kind_display()} ({self.days})"


class FollowUpTask(models.Model):
    """One time a guide should contact a member, and how it went.

    Rule-made tasks are unique per rule, member and occasion (``occasion``:
    ``welcome``, ``order:<id>``, ``birthday:<year>``, ``dormant:<since>``), so
    the daily job can run again, or twice at once, and never make a second one.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("To do")
        DONE = "done", _("Done")
        SKIPPED = "skipped", _("Skipped")

    membership = models.ForeignKey(
        Membership,
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="follow_ups",
        db_index=False,  # the (membership, status) index below leads with it
    )
    guide = models.ForeignKey(
        Guide,
        verbose_name=_("guide"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="follow_ups",
        db_index=False,  # the (guide, status, due) index below leads with it
        help_text=_("Who should do it: the member's guide; open tasks move with the member."),
    )
    rule = models.ForeignKey(
        FollowUpRule,
        verbose_name=_("rule"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
        db_index=False,
    )
    kind = models.CharField(_("kind"), max_length=16, choices=FollowUpKind.choices)
    occasion = models.CharField(_("occasion"), max_length=64)
    title = models.CharField(_("what to do"), max_length=200, blank=True)
    due_date = models.DateField(_("due"))
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.OPEN
    )
    outcome_note = models.TextField(_("outcome"), max_length=2000, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    closed_by_guide = models.ForeignKey(
        Guide,
        verbose_name=_("done by guide"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["due_date", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "membership", "occasion"],
                condition=Q(rule__isnull=False),
                name="follow_up_once_per_occasion",
            ),
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True)
                | (~Q(status="open") & Q(closed_at__isnull=False)),
                name="follow_up_closed_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(kind="manual") | Q(rule__isnull=True), name="follow_up_manual_no_rule"
            ),
        ]
        indexes = [
            models.Index(fields=["guide", "status", "due_date"], name="follow_up_guide_idx"),
            models.Index(fields=["membership", "status"], name="follow_up_member_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.membership_id} · {self.due_date}"


class Tag(models.Model):
    """A label for members of a brand: HQ's official list, plus tags guides add."""

    brand = models.ForeignKey(
        Brand, verbose_name=_("brand"), on_delete=models.CASCADE, related_name="member_tags"
    )
    name = models.CharField(_("name"), max_length=32)
    is_official = models.BooleanField(
        _("official"), default=False, help_text=_("On HQ's list; others were added by guides.")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["brand", "-is_official", "name"]
        constraints = [models.UniqueConstraint(fields=["brand", "name"], name="tag_once_per_brand")]

    def __str__(self):
        return self.name


class MemberTag(models.Model):
    membership = models.ForeignKey(
        Membership,
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="tag_links",
        db_index=False,  # the unique constraint leads with it
    )
    tag = models.ForeignKey(Tag, verbose_name=_("tag"), on_delete=models.CASCADE, related_name="+")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("added by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    added_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        verbose_name = _("member tag")
        verbose_name_plural = _("member tags")
        constraints = [
            models.UniqueConstraint(fields=["membership", "tag"], name="member_tag_once"),
        ]

    def __str__(self):
        return f"{self.membership_id}: {self.tag_id}"


class MemberNote(models.Model):
    """A note about a member: who wrote it and when. Notes are added, never edited."""

    membership = models.ForeignKey(
        Membership,
        verbose_name=_("member"),
        on_delete=models.CASCADE,
        related_name="notes",
        db_index=False,  # the (membership, created) index leads with it
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    author_name = models.CharField(_("author"), max_length=150)
    body = models.TextField(_("note"), max_length=2000)
    created_at = models.DateTimeField(_("written at"), auto_now_add=True)

    class Meta:
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["membership", "created_at"], name="note_member_idx")]

    def __str__(self):
        return f"{self.membership_id} · {self.author_name}"
