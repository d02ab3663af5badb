"""The `cx.intake.v1` subscriber: batches of raw records in, offsets committed only after they are handled."""

import dataclasses
from typing import Any

from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage

from services.experience.handlers.intake import IntakeHandler, IntakeRecord


def _intake_record(record: ConsumerRecord[Any, Any]) -> IntakeRecord:
    return IntakeRecord(record.topic, record.partition, record.offset, record.key, record.value, record.headers)


async def _tolerant_parser(records: tuple[ConsumerRecord[Any, Any], ...], original: Any) -> StreamMessage[Any]:
    # FastStream decodes every header as UTF-8 while parsing; one bad header would fail the whole batch
    # before our handler could dead-letter it. Parse a copy with such headers blanked, keep the originals.
    def safe(record: ConsumerRecord[Any, Any]) -> ConsumerRecord[Any, Any]:
        headers = [(k, v if _is_utf8(v) else b"") for k, v in record.headers]
        return dataclasses.replace(record, headers=headers)

    message: StreamMessage[Any] = await original(tuple(safe(r) for r in records))
    message.raw_message = records
    return message


def _is_utf8(value: bytes | None) -> bool:
    try:
        (value or b"").decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


async def _raw_decoder(message: StreamMessage[Any], original: Any) -> Any:
    return None  # the handler reads the raw records; FastStream's JSON guessing would only cost CPU


def subscribe_intake(
    broker: KafkaBroker, handler: IntakeHandler, *, topic: str, group_id: str, max_records: int
) -> None:
    """Register the batch subscriber on `broker`; it starts and stops with the broker."""

    # NACK_ON_ERROR, not the default ACK_FIRST: ACK_FIRST commits before the handler runs (at most once).
    # Here a normal return commits the batch; an exception seeks each partition back to the batch's first
    # record, so nothing is committed until it is stored or dead-lettered.
    @broker.subscriber(
        topic,
        group_id=group_id,
        batch=True,
        max_records=max_records,
        batch_timeout_ms=100,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        parser=_tolerant_parser,
        decoder=_raw_decoder,
    )
    async def take_intake_batch(message: KafkaMessage) -> None:
        await handler.handle([_intake_record(r) for r in message.raw_message])
