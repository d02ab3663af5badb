"""Use cases of the write side: record events, relay stored events to Kafka."""
