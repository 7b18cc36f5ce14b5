"""Text messages (SMS), sent through a pluggable backend like Django's email backends.

``settings.SMS_BACKEND`` names the class: ``apps.core.sms.backends.console.SmsBackend``
(the default) writes each message to the log, ``apps.core.sms.backends.locmem.SmsBackend``
keeps them in ``apps.core.sms.outbox`` for tests. A real provider is one small
class deriving from ``BaseSmsBackend`` that implements ``send_messages``:

    class SmsBackend(BaseSmsBackend):
        def send_messages(self, messages: list[SmsMessage]) -> int:
            for message in messages:
                provider_client.send(to=message.phone, text=message.text)
            return len(messages)

It returns how many messages it accepted and raises ``SmsSendError`` for one
it could not send (a caller shows the person a "try again" message).
Settings a provider needs go in ``SMS_BACKEND_OPTIONS`` (a dict passed to
its ``__init__`` as keyword arguments).
"""

from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

# The locmem backend's sent messages, newest last (cleared by tests).
outbox: list["SmsMessage"] = []


@dataclass(frozen=True)
class SmsMessage:
    phone: str  # a normalised mainland mobile number
    text: str


class SmsSendError(Exception):
    """A backend could not hand a message to its provider."""


class BaseSmsBackend:
    def __init__(self, **options):
        self.options = options

    def send_messages(self, messages: list[SmsMessage]) -> int:
        raise NotImplementedError


def sms_backend() -> BaseSmsBackend:
    """Return an instance of the configured backend."""
    backend_class = import_string(settings.SMS_BACKEND)
    return backend_class(**getattr(settings, "SMS_BACKEND_OPTIONS", {}))


def sms_send(*, phone: str, text: str) -> int:
    """Send one text message to ``phone``; return how many the backend accepted (0 or 1)."""
    return sms_backend().send_messages([SmsMessage(phone=phone, text=text)])
