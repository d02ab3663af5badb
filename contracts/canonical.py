"""How a stored event travels on `cx.events.v1`.

The record value is the accepted CloudEvent as JSON (`subject` always set to the customer id), plus three
extension attributes the experience service adds when it stores the event:

- `position`: the event's global position in the event store (strictly increasing, gap-free per commit order);
- `sequence`: its 1-based sequence number among that customer's events;
- `recordedat`: when the event store accepted it (RFC 3339).

The record key is the customer id (UTF-8), so one customer's events stay in order on one partition. Headers carry
`ce_type` and `ce_id` so a consumer can route without parsing, and `traceparent` when the producer sent one.
"""

POSITION = "position"
SEQUENCE = "sequence"
RECORDED_AT = "recordedat"

HEADER_TYPE = "ce_type"
HEADER_ID = "ce_id"
HEADER_TRACEPARENT = "traceparent"
