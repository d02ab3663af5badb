"""How a stored event travels on `cx.events.v1`.

The record value is the accepted CloudEvent as JSON (`subject` always set to the customer id), plus three
extension attributes the experience service adds when it stores the event:

- `position`: the event's global position in the event store (strictly increasing, gap-free per commit order);
- `sequence`: its 1-based sequence number among that customer's events;
- `recordedat`: when the event store accepted it (RFC 3339).

What the store keeps differs from what the producer sent in two ways, both about personal data:

- identifiers are never stored: `cx.identity.linked.v1` / `cx.identity.unlinked.v1` carry
  `data.identity = {"kind", "value_hash"}` (a keyed HMAC-SHA256, not `value`), and a touchpoint that named its
  customer by `data.identity` carries `data.customer_id` and `subject` instead, the identity removed;
- after `cx.customer.erased.v1` the customer's stored events lose their personal fields (`catalog.PERSONAL_FIELDS`,
  and `identity.value_hash`) and gain the extension attribute `redacted: true`. An event published again later
  (a refill after the broker lost records) goes out redacted; records already on the topic stay until retention.

The record key is the customer id (UTF-8), so one customer's events stay in order on one partition. Headers carry
`content-type: application/cloudevents+json` (the CloudEvents Kafka binding's structured mode), `ce_type` and
`ce_id` so a consumer can route without parsing, and `traceparent` when the producer sent one.
"""

POSITION = "position"
SEQUENCE = "sequence"
RECORDED_AT = "recordedat"
REDACTED = "redacted"

HEADER_CONTENT_TYPE = "content-type"
STRUCTURED_CONTENT_TYPE = b"application/cloudevents+json"
HEADER_TYPE = "ce_type"
HEADER_ID = "ce_id"
HEADER_TRACEPARENT = "traceparent"
