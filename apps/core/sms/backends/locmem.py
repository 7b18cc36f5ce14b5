"""Keep text messages in memory (``apps.core.sms.outbox``): for tests."""

from apps.core import sms
from apps.core.sms import BaseSmsBackend, SmsMessage


class SmsBackend(BaseSmsBackend):
    def send_messages(self, messages: list[SmsMessage]) -> int:
        sms.outbox.extend(messages)
        return len(messages)
