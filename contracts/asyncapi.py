"""Rapport's Kafka interface as an AsyncAPI 3.0.0 document, built from the topics, the catalogue and the schemas.

The document lies beside `schemas/` (contracts/asyncapi.json) and points at each committed schema by a relative
`$ref`, so it resolves offline wherever the two travel together, as they do in the package. Here: the channels,
messages and operations; the schemas they point at are contracts/asyncapi_schemas.py's.
"""

from inspect import cleandoc

from contracts import canonical, topics
from contracts.asyncapi_schemas import (
    ACCOUNT_VIEW,
    CE,
    CUSTOMER_VIEW,
    STORED,
    STORED_IDENTITY_TYPES,
    Json,
    component,
    reference,
    schema_ref,
    schemas,
)
from contracts.catalog import EVENT_TYPES

KAFKA_BINDING = "0.5.0"
BINARY = "Binary"  # suffix of a binary-mode message id: same event type, attributes in ce_* headers

ACTORS = {
    "upstream": "Systems that record touchpoints: tills, CRM, web shop, contact centre, survey tools.",
    "experience": "services/experience, the write side: validates, resolves identities, stores, relays.",
    "projection": "services/projection, the read side: folds each customer's events into views.",
    "subscribers": "Any other team or app that follows the events or the views.",
    "operators": "People running Rapport: `rapport tail`, `rapport status`, `rapport dlq replay`.",
}
INTAKE = """Anyone may produce here; nothing on it is trusted. Each record is one CloudEvent of any type in the
catalogue, in either mode of the CloudEvents Kafka binding: structured (the value is the whole event as JSON; a
`content-type` of `application/cloudevents+json`, or none) or binary (a `ce_specversion` header: the attributes in
`ce_*` headers with lower-case names, UTF-8, extensions such as `ce_traceparent` included; the value is `data` as
JSON, `content-type` `application/json` or none). Both are validated alike. A touchpoint may name its customer by a
linked identity instead of `customer_id`. The experience service stores each valid event once (its `id` is the
idempotency key) and relays it on `cx.events.v1`; every other record goes to `cx.intake.dlq.v1` with the reason:
not UTF-8 or JSON, an unknown type, invalid fields or attributes, data that is not JSON, an unknown identity, an
erased customer, or an erasure while the service takes erasures only over HTTP."""
DEAD_LETTERS = """Every intake record the experience service could not store: key and value exactly as they arrived
(any bytes), the original headers, and the `rapport-dlq-*` headers saying why and where it came from."""
CUSTOMER_VIEWS = """Compacted. Key: the customer id. Value: the whole customer view as JSON, with its `version`
(events applied) and `position` (the last applied event's). Erasure leaves a tombstone (a null value): drop
whatever you hold on that customer."""
ACCOUNT_VIEWS = """Compacted. Key: the account id. Value: the whole account view as JSON: its members (each with
role, score and preferences) and health. A member's erasure sends the account again without them; an account
itself is never tombstoned."""

# id, actor, action, channel, summary
OPERATIONS = (
    ("upstreamSendIntake", "upstream", "send", "intake", "Send events; the HTTP API takes the same."),
    ("experienceReceiveIntake", "experience", "receive", "intake",
     "Store the valid events of a batch, dead-letter the rest, then commit the batch's offsets."),
    ("experienceSendDeadLetters", "experience", "send", "intakeDeadLetters", "Dead-letter each record it refused."),
    ("experienceSendEvents", "experience", "send", "events", "Relay stored events in position order, at least once."),
    ("operatorsReceiveDeadLetters", "operators", "receive", "intakeDeadLetters",
     "See why records were refused; `rapport dlq replay` sends them back to intake once the cause is fixed."),
    ("projectionReceiveEvents", "projection", "receive", "events",
     "Fold each customer's events into views, skipping any at or below a view's position."),
    ("subscribersReceiveEvents", "subscribers", "receive", "events",
     "Follow the events: in order per customer, at least once."),
    ("projectionSendCustomerViews", "projection", "send", "customerViews", "Send each changed customer view."),
    ("projectionSendAccountViews", "projection", "send", "accountViews", "Send each changed account view."),
    ("subscribersReceiveCustomerViews", "subscribers", "receive", "customerViews", "Keep customer views current."),
    ("subscribersReceiveAccountViews", "subscribers", "receive", "accountViews", "Keep account views current."),
)  # fmt: skip


def message_id(event_type: str) -> str:
    """An event type's message id in a channel: its model's name (AsyncAPI ids allow no dots)."""
    return EVENT_TYPES[event_type].__name__.removesuffix("Event")


def build(documents: dict[str, Json]) -> Json:
    """The AsyncAPI document; `documents` are the committed schemas by name, as export.schemas() makes them."""
    channels = _channels()
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Rapport",
            "version": "1",
            "description": "Rapport's Kafka interface, version 1: each topic and event type carries its major version.",
            "tags": [{"name": name, "description": text} for name, text in ACTORS.items()],
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": {op: _operation(channels, *rest) for op, *rest in OPERATIONS},
        "components": {"schemas": schemas(documents)},
    }


def _channels() -> Json:
    customer_key, account_key = _key(component("customer-id")), _key(component("account-id"))
    intake_key = _key(component("intake-key"))
    intake = {message_id(t): _event(t, component(t), component("intake-headers"), intake_key) for t in EVENT_TYPES}
    intake |= {message_id(t) + BINARY: _binary_event(t, intake_key) for t in EVENT_TYPES}
    relayed = {message_id(t): _event(t, _canonical(t), _relay_headers(t), customer_key) for t in EVENT_TYPES}
    dead_letter = {
        "name": "dead-letter",
        "contentType": "application/octet-stream",
        "headers": component("dead-letter-headers"),
        "payload": {"description": "The refused record's value, byte for byte; null when it had none."},
        "bindings": _key({"description": "The refused record's key, byte for byte; absent when it had none."}),
    }
    customer_view = {
        "name": CUSTOMER_VIEW,
        "headers": component("view-headers"),
        "payload": component(CUSTOMER_VIEW),
        "bindings": customer_key,
    }
    tombstone = {
        "name": "tombstone",
        "summary": "The customer was erased.",
        "payload": {"type": "null"},
        "bindings": customer_key,
    }
    account_view = {
        "name": ACCOUNT_VIEW,
        "headers": component("view-headers"),
        "payload": component(ACCOUNT_VIEW),
        "bindings": account_key,
    }
    return {
        "intake": _channel(topics.INTAKE, "Intake", INTAKE, intake),
        "intakeDeadLetters": _channel(topics.INTAKE_DLQ, "Dead letters", DEAD_LETTERS, {"DeadLetter": dead_letter}),
        "events": _channel(topics.EVENTS, "Canonical events", cleandoc(canonical.__doc__ or ""), relayed),
        "customerViews": _channel(
            topics.CUSTOMER_VIEWS,
            "Customer views",
            CUSTOMER_VIEWS,
            {"CustomerView": customer_view, "CustomerViewErased": tombstone},
            compacted=True,
        ),
        "accountViews": _channel(
            topics.ACCOUNT_VIEWS, "Account views", ACCOUNT_VIEWS, {"AccountView": account_view}, compacted=True
        ),
    }


def _channel(topic: str, title: str, description: str, messages: Json, compacted: bool = False) -> Json:
    binding: Json = {"topic": topic, "bindingVersion": KAFKA_BINDING}
    if compacted:
        binding["topicConfiguration"] = {"cleanup.policy": ["compact"]}
    return {
        "address": topic,
        "title": title,
        "description": description,
        "messages": messages,
        "bindings": {"kafka": binding},
    }


def _key(schema: Json) -> Json:
    return {"kafka": {"key": schema, "bindingVersion": KAFKA_BINDING}}


def _event(event_type: str, payload: Json, headers: Json, bindings: Json) -> Json:
    message = {
        "name": event_type,
        "title": message_id(event_type),
        "contentType": "application/cloudevents+json",
        "headers": headers,
        "payload": payload,
        "bindings": bindings,
    }
    data = EVENT_TYPES[event_type].model_fields["data"].annotation
    if data is not None and data.__doc__:
        message["summary"] = " ".join(data.__doc__.split())
    return message


def _binary_event(event_type: str, bindings: Json) -> Json:
    """The event in binary mode: its data as the value, the attributes in `ce_*` headers."""
    data = EVENT_TYPES[event_type].model_fields["data"].annotation
    assert data is not None  # every event type declares its data model
    headers = {"properties": {f"{CE}type": {"const": event_type, "description": "The event's `type`."}}}
    return {
        "name": f"{event_type} (binary)",
        "title": f"{message_id(event_type)} in binary mode",
        "summary": "The same event in CloudEvents binary mode: `data` as the value, attributes as `ce_*` headers.",
        "contentType": "application/json",
        "headers": {"allOf": [component("intake-binary-headers"), headers]},
        "payload": reference(f"{schema_ref(event_type)}#/$defs/{data.__name__}"),
        "bindings": bindings,
    }


def _canonical(event_type: str) -> Json:
    stored = event_type + STORED if event_type in STORED_IDENTITY_TYPES else event_type
    return {"allOf": [component(stored), component("canonical-attributes")]}


def _relay_headers(event_type: str) -> Json:
    return {
        "type": "object",
        "required": [canonical.HEADER_CONTENT_TYPE, canonical.HEADER_TYPE, canonical.HEADER_ID],
        "properties": {
            canonical.HEADER_CONTENT_TYPE: {
                "const": canonical.STRUCTURED_CONTENT_TYPE.decode(),
                "description": "CloudEvents structured mode: the value is the whole event.",
            },
            canonical.HEADER_TYPE: {"const": event_type, "description": "The event's `type`."},
            canonical.HEADER_ID: {"type": "string", "description": "The event's `id`."},
            canonical.HEADER_TRACEPARENT: component("traceparent"),
        },
    }


def _operation(channels: Json, actor: str, action: str, channel: str, summary: str) -> Json:
    messages = [reference(f"#/channels/{channel}/messages/{message}") for message in channels[channel]["messages"]]
    return {
        "action": action,
        "channel": reference(f"#/channels/{channel}"),
        "summary": summary,
        "tags": [{"name": actor}],
        "messages": messages,
    }
