"""``manage.py bench <name>``: benchmarks that print figures, never pass or fail.

Each benchmark is a module of ``apps.bench`` with ``add_arguments(parser)``
and ``run(*, stdout, **options) -> dict``; the command prints progress and,
as its last line, the returned summary as one JSON object.
"""

import json

from django.core.management.base import BaseCommand

from apps.bench import assignment, incentives, ingest, load, report, scope, settlement

BENCHMARKS = {
    "assignment": assignment,
    "settlement": settlement,
    "report": report,
    "load": load,
    "incentives": incentives,
    "ingest": ingest,
    "scope": scope,
}


class Command(BaseCommand):
    help = "Run a benchmark and print its one-line JSON summary last."

    def add_arguments(self, parser):
        subparsers = parser.add_subparsers(dest="benchmark", required=True)
        for name, module in BENCHMARKS.items():
            sub = subparsers.add_parser(name, help=(module.__doc__ or "").strip().splitlines()[0])
            module.add_arguments(sub)

    def handle(self, *args, benchmark, **options):
        options.pop("stdout", None)
        options.pop("stderr", None)
        summary = BENCHMARKS[benchmark].run(stdout=self.stdout, **options)
        self.stdout.write(json.dumps(summary, ensure_ascii=False))
