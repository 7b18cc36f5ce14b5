import io
import json

import pytest
from django.core.management import call_command


@pytest.mark.django_db(transaction=True)
def test_assignment_benchmark_runs_end_to_end_on_a_small_data_set():
    out = io.StringIO()

    call_command(
        "bench", "assignment", "--stores", "60", "--members", "40", "--exact-sample", "20",
        "--single", "3", stdout=out,
    )  # fmt: skip

    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert summary["bench"] == "assignment"
    assert (summary["stores"], summary["members"]) == (60, 40)
    assert summary["exact"] is True
    assert summary["seconds"] > 0
