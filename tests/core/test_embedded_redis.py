"""The embedded Redis: what the settings make of it, and what it keeps across a restart."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from kombu import Connection

from config.embedded_redis import MAX_SOCKET_PATH_BYTES, EmbeddedRedis
from tests.worker import broker_url_configured

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not broker_url_configured(), reason="no Redis binary for this platform"
)


class Server:
    def __init__(self, redis: EmbeddedRedis):
        self.redis = redis
        self.process = None

    def start(self):
        self.process = subprocess.Popen(self.redis.command(), stdout=subprocess.DEVNULL)
        self.redis.wait_until_up(alive=lambda: self.process.poll() is None)

    def stop(self, *, hard: bool = False):
        if self.process is not None and self.process.poll() is None:
            (self.process.kill if hard else self.process.terminate)()
            self.process.wait(timeout=10)


def _settings_seen_by_a_command(var: Path) -> list[str]:
    show = (
        "from django.conf import settings as s; from django.core.cache import cache; "
        "cache.set('probe', 'seen'); "
        "print(s.CACHES['default']['BACKEND'].rsplit('.', 1)[-1], s.CELERY_TASK_ALWAYS_EAGER, "
        "s.TASK_COALESCING, s.CELERY_BROKER_URL, cache.get('probe'))"
    )
    clean = {k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL", "CACHE_URL")}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", show],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings.local", "VAR_DIR": str(var)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_a_command_uses_the_embedded_redis_while_it_runs_and_works_inline_otherwise(tmp_path):
    redis = EmbeddedRedis(tmp_path / "redis", persistent=False)

    # With no Redis running (make run stopped), a command runs its tasks inline
    stopped = _settings_seen_by_a_command(tmp_path)
    assert stopped == ["LocMemCache", "True", "False", redis.broker_url, "seen"]

    server = Server(redis)
    try:
        server.start()
        # While it runs, the broker and the shared cache are that Redis, as in production
        running = _settings_seen_by_a_command(tmp_path)
    finally:
        server.stop()
    assert running == ["RedisCache", "False", "True", redis.broker_url, "seen"]


def test_queued_messages_survive_a_restart_of_the_embedded_redis(tmp_path):
    server = Server(EmbeddedRedis(tmp_path / "redis"))
    try:
        server.start()
        with Connection(server.redis.broker_url) as connection:
            connection.SimpleQueue("jobs").put({"job": 1})
        server.stop()  # SIGTERM, as the supervisor stops it

        server.start()
        with Connection(server.redis.broker_url) as connection:
            queue = connection.SimpleQueue("jobs")
            message = queue.get(timeout=5)
            message.ack()
            queue.close()
    finally:
        server.stop(hard=True)

    assert message.payload == {"job": 1}


def test_a_socket_path_the_os_would_refuse_moves_to_a_short_one(tmp_path):
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    assert len(os.fsencode(deep / "redis.sock")) > MAX_SOCKET_PATH_BYTES

    redis = EmbeddedRedis(deep)
    server = Server(redis)
    try:
        server.start()
        assert redis.is_up()
    finally:
        server.stop()

    assert len(os.fsencode(redis.socket_path)) <= MAX_SOCKET_PATH_BYTES
    assert EmbeddedRedis(deep).socket_path == redis.socket_path  # every process finds it
    assert redis.data_dir == deep  # the data stays where it was asked to be
