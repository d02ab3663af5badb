"""`rapport emit`: one touchpoint over HTTP or Kafka, the way an upstream system sends it."""

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any, NoReturn

import httpx
import orjson
import typer
from rich.console import Console

from contracts import parse_event, topics
from contracts.event_types import TOUCHPOINT_RECORDED
from services.cli.kafka_security import PLAINTEXT
from services.common.kafka_security import KafkaSecurity

console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)


def build_touchpoint(
    customer: str, channel: str, kind: str, sentiment: float | None, emotion: str | None, note: str | None
) -> dict[str, Any]:
    data: dict[str, Any] = {"customer_id": customer, "channel": channel, "kind": kind}
    optional = {"sentiment": sentiment, "emotion": emotion, "note": note}
    data.update({name: value for name, value in optional.items() if value is not None})
    event = {
        "specversion": "1.0",
        "id": f"cli-{uuid.uuid4()}",
        "source": "rapport/cli",
        "type": TOUCHPOINT_RECORDED,
        "time": datetime.now(UTC).isoformat(),
        "data": data,
    }
    parse_event(event)  # refuse locally what the service would refuse, with the same field paths
    return event


def send_http(
    url: str, event: dict[str, Any], api_key: str | None, transport: httpx.BaseTransport | None = None
) -> None:
    """POST the event; exit 1 with the answer's body on stderr unless the service accepted it (2xx)."""
    headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        with httpx.Client(transport=transport, timeout=10) as client:
            response = client.post(f"{url}/v1/events", json=event, headers=headers)
    except httpx.HTTPError as failed:
        _fail(f"could not reach {url}: {failed}")
    if not response.is_success:
        _fail(f"{response.status_code} {response.text}")
    console.print(f"{response.status_code} {response.text}", markup=False)


def send_kafka(bootstrap: str, event: dict[str, Any], security: KafkaSecurity = PLAINTEXT) -> None:
    """Produce the event to cx.intake.v1; exit 1 with the broker's error on stderr if it was not acknowledged."""
    from aiokafka import AIOKafkaProducer
    from aiokafka.errors import KafkaError

    async def send() -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, enable_idempotence=False, acks="all", **security.client_options()
        )
        try:
            await producer.start()
            meta = await producer.send_and_wait(
                topics.INTAKE, orjson.dumps(event), key=event["data"]["customer_id"].encode()
            )
            console.print(f"sent {event['id']} to {meta.topic}[{meta.partition}]@{meta.offset}", markup=False)
        finally:
            await producer.stop()

    try:
        asyncio.run(send())
    except KafkaError as failed:
        _fail(f"could not send {event['id']} to {topics.INTAKE} via {bootstrap}: {failed}")


def _fail(message: str) -> NoReturn:
    errors.print(message, markup=False)
    raise typer.Exit(code=1)
