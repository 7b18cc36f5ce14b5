import pytest

from apps.core.models import Heartbeat
from apps.core.tasks import heartbeat
from tests.worker import broker_url_configured, running_worker, wait_for

pytestmark = [
    pytest.mark.broker,
    pytest.mark.skipif(
        not broker_url_configured(),
        reason="CELERY_BROKER_URL is not set: no broker to run a real worker against",
    ),
]


@pytest.mark.django_db(transaction=True)
def test_task_sent_through_the_broker_is_run_by_a_worker_process():
    with running_worker() as queue:
        heartbeat.apply_async(kwargs={"source": "worker-test"}, queue=queue)

        row = wait_for(lambda: Heartbeat.objects.filter(source="worker-test").first())

    assert row.source == "worker-test"
