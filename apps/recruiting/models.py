"""One-time codes that prove a shopper holds the phone they sign up with."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class PhoneVerification(models.Model):
    """A code sent by SMS to a phone; valid once, for a few minutes, for a few tries.

    The code itself is never stored, only a keyed hash of phone and code. The
    rows double as the count of codes sent to a phone, which limits how often
    one phone can be sent a code.
    """

    phone = models.CharField(_("mobile phone"), max_length=11)
    code_hash = models.CharField(_("code hash"), max_length=64, editable=False)
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    attempts = models.PositiveSmallIntegerField(_("wrong tries"), default=0)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("phone verification")
        verbose_name_plural = _("phone verifications")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["phone", "created_at"], name="verification_phone_idx")]

    def __str__(self):
        return f"{self.phone[:3]}****{self.phone[-4:]} @ {self.created_at:%Y-%m-%d %H:%M}"
