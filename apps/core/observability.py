"""What every process reports about itself: request and task metrics, request and task ids in logs.

Metrics are prometheus-client's, in multiprocess mode: each gunicorn worker
and each Celery pool process writes its counters to files under
``PROMETHEUS_MULTIPROC_DIR`` (set by the settings before prometheus-client is
imported), and ``/metrics`` on any web process of the host sums them. One
process's own registry would show only the requests that one worker served
and none of the tasks. Figures that belong to no process (queue depth,
members pending) are read from Redis and the database at scrape time
(``apps.dashboards.metrics``).

Logs: a request gets an id (the caller's ``X-Request-ID`` when it is a sane
one, else a new one), returned in the response's ``X-Request-ID``; tasks
queued while serving it carry it in their message headers, and every log
line written while serving it or running its tasks carries it and the task
id (``RequestIdFilter``; ``LOG_FORMAT=json`` prints them as fields).
"""

import contextvars
import json
import logging
import re
import time
import uuid

from celery.signals import before_task_publish, task_postrun, task_prerun
from prometheus_client import Counter, Histogram

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
task_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("task_id", default="")

REQUEST_ID_HEADER = "X-Request-ID"
# The message header that carries the request id into a task.
TASK_REQUEST_ID_HEADER = "scrm_request_id"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

HTTP_REQUEST_SECONDS = Histogram(
    "scrm_http_request_duration_seconds",
    "Time to answer an HTTP request, by view and status.",
    ["view", "method", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
TASKS = Counter(
    "scrm_tasks",
    "Celery tasks by outcome: started, succeeded, failed, retried.",
    ["task", "outcome"],
)
TASK_SECONDS = Histogram(
    "scrm_task_duration_seconds",
    "Time a Celery task ran, by task.",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800),
)
_OUTCOMES = {"SUCCESS": "succeeded", "FAILURE": "failed", "RETRY": "retried"}
_task_started: dict[str, float] = {}


class RequestMetricsMiddleware:
    """Give the request an id and time it, labelled by the view's URL name and the status."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = given if _SANE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        match = getattr(request, "resolver_match", None)
        # The URL's name, never the path: a path carries ids, one series each.
        view = (match.view_name or match._func_path) if match else "unmatched"
        HTTP_REQUEST_SECONDS.labels(view, request.method, str(response.status_code)).observe(
            time.perf_counter() - started
        )
        response[REQUEST_ID_HEADER] = request_id
        return response


@before_task_publish.connect(dispatch_uid="observability_request_id_header")
def _request_id_into_message(headers=None, **kwargs):
    request_id = request_id_var.get()
    if request_id and headers is not None:
        headers.setdefault(TASK_REQUEST_ID_HEADER, request_id)


@task_prerun.connect(dispatch_uid="observability_task_started")
def _task_started_hook(task_id=None, task=None, **kwargs):
    if not task.request.is_eager:  # run inline, it keeps the ids of the request around it
        task_id_var.set(task_id or "")
        request_id_var.set(getattr(task.request, TASK_REQUEST_ID_HEADER, None) or "")
    _task_started[task_id] = time.perf_counter()
    TASKS.labels(task.name, "started").inc()


@task_postrun.connect(dispatch_uid="observability_task_ended")
def _task_ended_hook(task_id=None, task=None, state=None, **kwargs):
    started = _task_started.pop(task_id, None)
    if started is not None:
        TASK_SECONDS.labels(task.name).observe(time.perf_counter() - started)
    if state in _OUTCOMES:
        TASKS.labels(task.name, _OUTCOMES[state]).inc()
    if not task.request.is_eager:
        task_id_var.set("")
        request_id_var.set("")


class RequestIdFilter(logging.Filter):
    """Put the current request id and task id on every log record."""

    def filter(self, record):
        record.request_id = request_id_var.get()
        record.task_id = task_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request and task ids, exception."""

    def format(self, record):
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        for field in ("request_id", "task_id"):
            if value := getattr(record, field, ""):
                entry[field] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
