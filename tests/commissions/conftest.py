import pytest
from django.db import connection

from tests.factories import GuideFactory

requires_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL (row locks, concurrent transactions); the database is SQLite",
)


@pytest.fixture
def guide(store):
    return GuideFactory(employee_no="E1001", store=store)
