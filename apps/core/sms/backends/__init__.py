"""SMS backends shipped with the project (see ``apps.core.sms``)."""
