"""Kafka topic names of the public interface, version 1."""

INTAKE = "cx.intake.v1"  # anyone may produce; untrusted
INTAKE_DLQ = "cx.intake.dlq.v1"  # rejected intake: original bytes plus reason headers
EVENTS = "cx.events.v1"  # canonical, written only by the experience service
CUSTOMER_VIEWS = "cx.customer-views.v1"  # compacted, key = customer id
ACCOUNT_VIEWS = "cx.account-views.v1"  # compacted, key = account id

# Headers on a dead-letter record, so a reader can tell what was wrong without parsing the value.
DLQ_REASON = "rapport-dlq-reason"
DLQ_DETAIL = "rapport-dlq-detail"
DLQ_TOPIC = "rapport-dlq-topic"
DLQ_PARTITION = "rapport-dlq-partition"
DLQ_OFFSET = "rapport-dlq-offset"
