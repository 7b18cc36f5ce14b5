"""``manage.py bench <name>``: benchmarks that print figures, never pass or fail.

Each benchmark lives in its app as a module with ``add_arguments(parser)`` and
``run(*, stdout, **options) -> dict``; the command prints progress and, as its
last line, the returned summary as one JSON object.
"""

import importlib
import json

from django.core.management.base import BaseCommand

BENCHMARKS = {
    "assignment": "apps.customers.benchmarks",
    "settlement": "apps.commissions.benchmarks",
    "report": "apps.commissions.report_benchmarks",
    "load": "apps.core.load_benchmark",
}


class Command(BaseCommand):
    help = "Run a benchmark and print its one-line JSON summary last."

    def add_arguments(self, parser):
        subparsers = parser.add_subparsers(dest="benchmark", required=True)
        for name, module_path in BENCHMARKS.items():
            try:
                module = importlib.import_module(module_path)
            except ModuleNotFoundError:
                continue
            sub = subparsers.add_parser(name, help=(module.__doc__ or "").strip().splitlines()[0])
            module.add_arguments(sub)

    def handle(self, *args, benchmark, **options):
        module = importlib.import_module(BENCHMARKS[benchmark])
        options.pop("stdout", None)
        options.pop("stderr", None)
        summary = module.run(stdout=self.stdout, **options)
        self.stdout.write(json.dumps(summary, ensure_ascii=False))
