"""`rapport emit`: one touchpoint over HTTP or Kafka, the way an upstream system sends it."""

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
from rich.console import Console

from contracts import parse_event, topics

console = Console(highlight=False, soft_wrap=True)


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
        "type": "cx.touchpoint.recorded.v1",
        "time": datetime.now(UTC).isoformat(),
        "data": data,
    }
    parse_event(event)  # refuse locally what the service would refuse, with the same field paths
    return event


def send_http(url: str, event: dict[str, Any], api_key: str | None) -> None:
    headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
    response = httpx.post(f"{url}/v1/events", json=event, headers=headers, timeout=10)
    console.print(f"{response.status_code} {response.text}")


def send_kafka(bootstrap: str, event: dict[str, Any]) -> None:
    from aiokafka import AIOKafkaProducer

    async def send() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False, acks="all")
        await producer.start()
        try:
            meta = await producer.send_and_wait(
                topics.INTAKE, orjson.dumps(event), key=event["data"]["customer_id"].encode()
            )
            console.print(f"sent {event['id']} to {meta.topic}[{meta.partition}]@{meta.offset}")
        finally:
            await producer.stop()

    asyncio.run(send())
