"""The session engine (``SESSION_ENGINE``): database sessions with the user on each row."""

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore


class SessionStore(DatabaseSessionStore):
    """Store sessions in ``UserSession``, each row stamped with its signed-in user."""

    @classmethod
    def get_model_class(cls):
        from apps.core.models import UserSession

        return UserSession

    def create_model_instance(self, data):
        session = super().create_model_instance(data)
        try:
            session.user_id = int(data.get(SESSION_KEY))
        except (TypeError, ValueError):
            session.user_id = None
        return session
