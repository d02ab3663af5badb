"""The stage tool's parts: its producer builds what aiokafka would send, and the stages fold what the handler does."""

import orjson
from aiokafka.record.default_records import DefaultRecordBatch

from services.cli.bench_stages import DECODE, UnsentProducer, stages_alone, touchpoints
from services.projection.adapters.view_publisher import KafkaViewPublisher
from services.projection.domain import FoldRules


async def test_the_unsent_producer_takes_the_publishers_batches_and_numbers_them_per_partition() -> None:
    producer = UnsentProducer(partitions=3)
    publisher = KafkaViewPublisher(producer, "views")
    views = [{"customer_id": f"c-{n}", "position": n, "preferences": {}} for n in range(50)]
    await publisher.publish(views)
    await publisher.publish(views)
    assert sum(producer._offsets) == 100  # every record of both rounds, offsets moving on per partition
    batch = producer.create_batch()
    batch.append(key=b"k", value=orjson.dumps(views[0]), timestamp=None, headers=[])
    built = DefaultRecordBatch(bytearray(batch._build()))
    assert built.compression_type == DefaultRecordBatch.CODEC_SNAPPY  # as the live publisher compresses


def test_the_stages_fold_every_event_after_the_first_batch_into_one_view_per_customer_and_batch() -> None:
    records = touchpoints(600, 40)
    batches = [records[start : start + 200] for start in range(0, 600, 200)]
    seconds, views = stages_alone(batches, FoldRules())
    customers_per_batch = [len({orjson.loads(r.value)["subject"] for r in batch}) for batch in batches[1:]]
    assert views == sum(customers_per_batch)
    assert set(seconds) >= {DECODE, "fold", "render the view"}
    assert all(spent >= 0 for spent in seconds.values())
