"""The page where staff set their password from a one-time link (``apps.guides.logins``)."""

from django.contrib import admin
from django.contrib.auth.views import PasswordResetConfirmView
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _


class StaffSetPasswordView(PasswordResetConfirmView):
    """Django's reset-confirm view in the admin's login look; it logs nobody in."""

    template_name = "registration/staff_set_password.html"
    success_url = reverse_lazy("admin:login")
    post_reset_login = False
    title = _("Set your password")

    def form_valid(self, form):
        from django.contrib import messages

        response = super().form_valid(form)
        messages.success(self.request, _("Your password is set. Log in with it now."))
        return response

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(admin.site.each_context(self.request))
        context["username"] = getattr(getattr(self, "user", None), "username", "")
        return context
