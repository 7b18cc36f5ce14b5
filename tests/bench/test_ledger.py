"""The ledger benchmarks run end to end on a small data set, beside the assignment one."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.stores.models import Store


def bench(*args) -> dict:
    out = io.StringIO()
    call_command("bench", *args, stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


@pytest.mark.django_db(transaction=True)
def test_settlement_and_report_benchmarks_run_beside_the_assignment_benchmarks_data():
    # Given the assignment benchmark's stores and members in the same database
    bench("assignment", "--stores", "30", "--members", "20", "--exact-sample", "5", "--single", "1")
    assignment_stores = Store.objects.filter(code__startswith="BENCH-S").count()

    # When the settlement and report benchmarks wipe and build their own data
    settlement = bench(
        "settlement", "--orders", "300", "--stores", "20", "--guides", "40", "--sample", "20",
        "--force",
    )  # fmt: skip
    report = bench("report", "--entries", "2000", "--stores", "20", "--guides", "40", "--force")

    # Then both ran on their own data and left the assignment benchmark's alone
    assert settlement["balanced"] is True
    assert settlement["orders"] == 300
    assert report["entries"] == 2000
    assert Store.objects.filter(code__startswith="BENCH-S").count() == assignment_stores == 30


@pytest.mark.django_db
def test_a_ledger_benchmark_refuses_a_database_that_is_not_a_bench_one():
    with pytest.raises(CommandError, match="bench"):
        bench("settlement", "--orders", "10")


@pytest.mark.django_db(transaction=True)
def test_incentives_benchmark_closes_the_month_exactly_and_a_ledger_benchmark_wipes_it_after():
    incentives = bench(
        "incentives", "--entries", "4000", "--stores", "10", "--guides", "40", "--sample", "10",
        "--check", "50", "--force",
    )  # fmt: skip

    assert incentives["bench"] == "incentives" and incentives["exact"] is True
    assert incentives["entries"] >= 4000 and incentives["guides"] == 40
    assert incentives["seconds"] > 0 and incentives["naive_seconds"] > 0
    # The other ledger benchmarks wipe the incentives too (they hold the bench's guides).
    assert bench("report", "--entries", "200", "--stores", "5", "--guides", "10", "--force")
