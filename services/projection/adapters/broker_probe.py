"""Is the broker there? A bootstrap of a short-lived client with the same security as every other client."""

from typing import Any

from aiokafka.client import AIOKafkaClient


async def check_broker(client_options: dict[str, Any], timeout_ms: int = 3000) -> None:
    """Raise unless the cluster answers a metadata request (what aiokafka's bootstrap sends)."""
    client = AIOKafkaClient(**client_options, request_timeout_ms=timeout_ms)
    try:
        await client.bootstrap()
    finally:
        await client.close()
