"""Write each text message to the log instead of sending it: the embedded default."""

import logging

from apps.core.sms import BaseSmsBackend, SmsMessage

logger = logging.getLogger("apps.core.sms")


class SmsBackend(BaseSmsBackend):
    def send_messages(self, messages: list[SmsMessage]) -> int:
        for message in messages:
            logger.info("SMS to %s: %s", message.phone, message.text)
        return len(messages)
