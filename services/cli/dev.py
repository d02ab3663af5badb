"""`rapport dev`: the whole system on one machine with embedded PostgreSQL and an embedded broker."""

import asyncio
import json
import os
import signal
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from contracts.auth import Scope, describe, new_key
from services.cli.broker_keeper import BrokerPart, TopicWatch
from services.cli.datalock import DataDirBusyError, DataDirLock
from services.cli.embedded import (
    EmbeddedBroker,
    EmbeddedPostgres,
    ensure_database,
    port_is_free,
)
from services.cli.endpoints import save_endpoints
from services.cli.processes import Child, run_once
from services.cli.supervisor import Supervisor
from services.cli.topology import TOPICS

console = Console(highlight=False, soft_wrap=True)


@dataclass(frozen=True)
class DevOptions:
    experience_port: int = 8080
    projection_port: int = 8081
    kafka_port: int = 9092
    data_dir: Path = Path(".rapport")
    projection_workers: int = 1
    demo: bool = False
    api_key: str | None = None


class DevSystem:
    """Owns every part of the development system and stops them in reverse order of start."""

    def __init__(self, options: DevOptions) -> None:
        self.options = options
        self.data_dir = options.data_dir.resolve()
        self.postgres = EmbeddedPostgres(self.data_dir / "postgres")
        self.broker = EmbeddedBroker(
            options.kafka_port, log_path=self.data_dir / "broker.log", cluster_id=broker_cluster_id(self.data_dir)
        )
        self.broker_part = BrokerPart(self.broker, TOPICS)
        self.children: list[Child] = []
        self.api_key = options.api_key or ""

    def start(self) -> None:
        self._check_ports()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.postgres.start()
        database_url = self.postgres.url("rapport")
        asyncio.run(ensure_database(database_url))
        console.print(f"postgres    ready   (data in {self.data_dir / 'postgres'})")
        self.broker_part.start()
        console.print(f"broker      ready   kafka://{self.broker.bootstrap} (memory only; topics created)")
        self.api_key = self._development_key()
        env = self._service_env(database_url)
        run_once(["-m", "services.experience", "migrate"], env, "experience migrations")
        run_once(["-m", "services.projection", "migrate"], env, "projection migrations")
        for child in self._children(env):
            child.start()
            self.children.append(child)
        for child in self.children:
            child.wait_healthy(timeout=60)
        self._announce()
        save_endpoints(self.data_dir, database_url, self.broker.bootstrap, self.options)
        self.save_pids()

    def save_pids(self) -> None:
        """DATA_DIR/dev-pids.json names the process behind each part, for whoever must find one (tests, an
        operator); rewritten on every restart."""
        parts = {"dev": os.getpid(), "broker": self.broker.pid, **{c.name: c.pid for c in self.children}}
        # Written aside and renamed over the old one: a reader never sees a half-written file.
        written = self.data_dir / "dev-pids.json.new"
        written.write_text(json.dumps(parts) + "\n")
        os.replace(written, self.data_dir / "dev-pids.json")

    def supervise(self, stop: threading.Event) -> None:
        """Until `stop`: restart what fails, and give the broker back topics it forgot."""
        supervisor = Supervisor([self.broker_part, *self.children], console.print, self.save_pids)
        topics = TopicWatch(self.broker_part)
        while not stop.wait(0.5):
            supervisor.tick()
            if restored := topics.tick(time.monotonic()):
                console.print(f"[yellow]broker      had lost {', '.join(restored)}; created them again[/yellow]")
            if self.broker_part.wedged():
                console.print("[yellow]broker      refuses produce (ObjectStore AlreadyExists); stopping it[/yellow]")
                self.broker_part.stop()  # the supervisor's next tick starts it again, as after any exit

    def _check_ports(self) -> None:
        o = self.options
        wanted = [("experience", o.experience_port), ("projection", o.projection_port), ("kafka", o.kafka_port)]
        for name, port in wanted:
            if not port_is_free(port):
                raise SystemExit(f"port {port} for {name} is in use; choose another with --{name}-port")

    def _development_key(self) -> str:
        """The key given with --api-key, else the one kept in the data directory, else a new one kept there."""
        if self.options.api_key:
            return self.options.api_key
        kept = self.data_dir / "dev-api-key"
        if not kept.exists():
            kept.write_text(new_key() + "\n")
            kept.chmod(0o600)
        return kept.read_text().strip()

    def _service_env(self, database_url: str) -> dict[str, str]:
        o = self.options
        keys = describe("development", self.api_key, list(Scope))  # services only ever see the hash
        return {
            "RAPPORT_EXPERIENCE_API_KEYS": keys,
            "RAPPORT_PROJECTION_API_KEYS": keys,
            "RAPPORT_EXPERIENCE_DATABASE_URL": database_url,
            "RAPPORT_EXPERIENCE_KAFKA_BOOTSTRAP": self.broker.bootstrap,
            "RAPPORT_EXPERIENCE_HTTP_PORT": str(o.experience_port),
            "RAPPORT_PROJECTION_DATABASE_URL": database_url,
            "RAPPORT_PROJECTION_KAFKA_BOOTSTRAP": self.broker.bootstrap,
            "RAPPORT_PROJECTION_HTTP_PORT": str(o.projection_port),
            # the brief finds customers by email, phone or card through the experience service's lookup
            "RAPPORT_PROJECTION_BRIEF_IDENTITY_URL": f"http://127.0.0.1:{o.experience_port}",
        }

    def _children(self, env: dict[str, str]) -> list[Child]:
        o, logs = self.options, self.data_dir
        children = [
            Child(
                "experience",
                ["-m", "services.experience", "serve"],
                env,
                logs / "experience.log",
                f"http://127.0.0.1:{o.experience_port}/healthz",
            ),
            Child(
                "projection",
                ["-m", "services.projection", "serve"],
                env,
                logs / "projection.log",
                f"http://127.0.0.1:{o.projection_port}/healthz",
            ),
        ]
        for n in range(1, o.projection_workers):
            children.append(
                Child(
                    f"projection-worker-{n}",
                    ["-m", "services.projection", "worker"],
                    env,
                    logs / f"projection-worker-{n}.log",
                )
            )
        return children

    def _announce(self) -> None:
        o = self.options
        console.print(f"experience  listening on http://127.0.0.1:{o.experience_port}  (POST /v1/events)")
        console.print(f"projection  listening on http://127.0.0.1:{o.projection_port}  (GET /v1/customers/{{id}})")
        if o.projection_workers > 1:
            console.print(f"projection  {o.projection_workers} workers in consumer group rapport-projection")
        console.print(f"api key     {self.api_key}  (every scope; kept in {self.data_dir / 'dev-api-key'})")
        console.print(f"brief       http://127.0.0.1:{o.projection_port}/brief/  (sign in with the api key above)")
        console.print(f"logs in {self.data_dir}; Ctrl-C stops everything")

    def stop(self) -> None:
        for child in reversed(self.children):
            child.stop()
        self.children.clear()
        self.broker.stop()
        self.postgres.stop()


def run_dev(options: DevOptions) -> int:
    """Start everything, seed the demo if asked, and keep it running until Ctrl-C or SIGTERM; returns the exit
    code. A second `rapport dev` on the same data directory is refused before it touches anything."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    lock = DataDirLock(options.data_dir.resolve())
    try:
        lock.acquire()
    except DataDirBusyError as busy:
        raise SystemExit(str(busy)) from None
    system = DevSystem(options)
    try:
        system.start()
        if options.demo:
            from services.cli.demo import seed_demo

            seed_demo(f"http://127.0.0.1:{options.experience_port}", system.api_key)
        system.supervise(stop)
        return 0
    finally:
        console.print("stopping…")
        system.stop()
        console.print("stopped")
        lock.release()


def broker_cluster_id(data_dir: Path) -> str:
    """This system's Kafka cluster id, made once and kept in the data dir: the embedded broker forgets everything
    on restart, and must come back as the same cluster (or the relay, fenced, would stop publishing), while
    another data dir's system is another cluster."""
    path = data_dir.resolve() / "broker-cluster-id"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"rapport-{uuid.uuid4().hex[:12]}\n")
    return path.read_text().strip()
