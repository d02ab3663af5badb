"""Starts Rapport the way a user does (`rapport dev`) and gives tests independent clients to talk to it."""

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition

from contracts.auth import new_key
from services.cli.embedded import free_port

pytestmark = pytest.mark.e2e


@dataclass
class RunningSystem:
    experience: str
    projection: str
    bootstrap: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log: Path
    api_key: str

    @property
    def auth(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.api_key}"}

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.auth, **kwargs.pop("headers", {})}
        return httpx.post(f"{self.experience}{path}", headers=headers, timeout=30, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.get(f"{self.projection}{path}", headers=self.auth, timeout=30, **kwargs)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=60)


def start_dev(
    data_dir: Path, kafka_port: int | None = None, *, demo: bool = False, own_key: bool = False
) -> RunningSystem:
    """`rapport dev` on `data_dir`, given a fresh --api-key unless `own_key` (then the key is the one it prints);
    with `demo`, returned once the demo is seeded."""
    ports = [free_port(), free_port(), kafka_port or free_port()]
    api_key = "" if own_key else new_key()
    log = data_dir.parent / f"{data_dir.name}-dev-{uuid.uuid4().hex[:6]}.log"
    args = [
        sys.executable,
        "-m",
        "services.cli.main",
        "dev",
        "--data-dir",
        str(data_dir),
        "--experience-port",
        str(ports[0]),
        "--projection-port",
        str(ports[1]),
        "--kafka-port",
        str(ports[2]),
        *(["--api-key", api_key] if api_key else []),
        *(["--demo"] if demo else []),
    ]
    process = subprocess.Popen(args, stdout=open(log, "wb"), stderr=subprocess.STDOUT, env=os.environ.copy())
    ready = re.compile(r"^demo .*already there" if demo else "Ctrl-C stops everything", re.MULTILINE)
    try:
        wait_for(lambda: ready.search(log.read_text()) or process.poll() is not None, 120, "rapport dev to start")
        assert process.poll() is None, log.read_text()
    except BaseException:
        process.terminate()  # stops what did start, as Ctrl-C would
        process.wait(timeout=60)
        raise
    if own_key:
        printed = re.search(r"^api key\s+(\S+)", log.read_text(), re.MULTILINE)
        assert printed, log.read_text()
        api_key = printed.group(1)
    return RunningSystem(
        f"http://127.0.0.1:{ports[0]}",
        f"http://127.0.0.1:{ports[1]}",
        f"127.0.0.1:{ports[2]}",
        data_dir,
        process,
        log,
        api_key,
    )


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    running = start_dev(tmp_path_factory.mktemp("rapport") / "data")
    yield running
    running.stop()
    assert running.process.returncode == 0, running.log.read_text()


BATCH = {"content-type": "application/cloudevents-batch+json"}


def customer() -> str:
    """A new customer id, so tests sharing one running system never see each other's customers."""
    return f"c-{uuid.uuid4().hex[:12]}"


def event(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": f"e2e-{uuid.uuid4()}",
        "source": "tests/e2e",
        "type": event_type,
        "time": "2026-10-01T10:00:00Z",
        "data": data,
    }


def touchpoint(customer: str, **data: Any) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": f"e2e-{uuid.uuid4()}",
        "source": "tests/e2e",
        "type": "cx.touchpoint.recorded.v1",
        "time": data.pop("time", datetime.now(UTC).isoformat()),
        "data": {"customer_id": customer, "channel": "store", "kind": "visit", **data},
    }


def view_of(system: RunningSystem, customer: str) -> dict[str, Any] | None:
    response = system.get(f"/v1/customers/{customer}")
    return response.json() if response.status_code == 200 else None


def wait_for_version(system: RunningSystem, customer: str, version: int, timeout: float = 30) -> dict[str, Any]:
    def ready() -> dict[str, Any] | None:
        view = view_of(system, customer)
        return view if view and view["version"] >= version else None

    return wait_for(ready, timeout, f"{customer} at version {version}")


def read_topic(bootstrap: str, topic: str, stop: Callable[[list[Any]], bool], timeout: float = 30) -> list[Any]:
    """Read a topic from the beginning with librdkafka (assigned partitions, no group) until `stop` says so."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": f"e2e-{uuid.uuid4().hex}", "enable.auto.commit": False}
    )
    metadata = consumer.list_topics(topic, timeout=10)
    partitions = list(metadata.topics[topic].partitions)
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
    records: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and not stop(records):
            message = consumer.poll(0.2)
            if message is not None and message.error() is None:
                records.append(message)
    finally:
        consumer.close()
    return records


def produce(
    bootstrap: str, topic: str, value: bytes, key: bytes | None = None, headers: list[tuple[str, bytes]] | None = None
) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": False})
    producer.produce(topic, value=value, key=key, headers=headers or [])
    assert producer.flush(10) == 0


def latest_view(records: list[Any], customer: str) -> dict[str, Any] | None:
    """The newest view of `customer` among `records`; None when there is none or the newest is a tombstone."""
    mine = [r for r in records if r.key() == customer.encode()]
    return orjson.loads(mine[-1].value()) if mine and mine[-1].value() is not None else None
