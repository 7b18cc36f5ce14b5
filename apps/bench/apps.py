"""The bench app: ``manage.py bench …`` benchmarks (top floor)."""

from django.apps import AppConfig


class BenchConfig(AppConfig):
    name = "apps.bench"
    verbose_name = "Benchmarks"
