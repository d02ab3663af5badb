"""The schemas of the AsyncAPI document: the committed ones by reference, identity events as the store keeps
them (derived from the committed ones), and what Kafka carries beside an event: keys, headers, stored attributes.
"""

from copy import deepcopy
from typing import Any

from contracts import canonical, topics
from contracts.catalog import EVENT_TYPES, IDENTITY_LINKED, IDENTITY_UNLINKED

Json = dict[str, Any]

CUSTOMER_VIEW = "customer-view.v1"
ACCOUNT_VIEW = "account-view.v1"
STORED = ".stored"  # suffix of a derived schema: an event as the event store keeps and relays it
STORED_IDENTITY_TYPES = (IDENTITY_LINKED, IDENTITY_UNLINKED)


def schema_ref(name: str) -> str:
    """Where a committed schema lies, relative to the AsyncAPI document."""
    return f"schemas/{name}.json"


def reference(pointer: str) -> Json:
    """A JSON Reference to `pointer`."""
    return {"$ref": pointer}


def component(name: str) -> Json:
    """A reference to one of the document's own schemas, under components."""
    return reference(f"#/components/schemas/{name}")


STORED_IDENTITY: Json = {
    "title": "StoredIdentity",
    "description": "An identity as the event store keeps it: a keyed hash, never the identifier; only the kind "
    "once the customer is erased.",
    "type": "object",
    "additionalProperties": False,
    "required": ["kind"],
    "properties": {
        "kind": {"$ref": "#/$defs/IdentityKind"},
        "value_hash": {
            "type": "string",
            "pattern": "^[0-9a-f]{64}$",
            "description": "HMAC-SHA256 of kind and normalised value, under the deployment's secret key.",
        },
    },
}
TEXT = {"type": "string"}
CE = "ce_"  # the Kafka binding's attribute header prefix


def _attribute(description: str, **schema: Any) -> Json:
    return {**TEXT, **schema, "description": description}


TRANSPORT: dict[str, Json] = {
    "canonical-attributes": {
        "description": "What the experience service adds to an event it stores (contracts/canonical.py).",
        "type": "object",
        "required": ["subject", canonical.POSITION, canonical.SEQUENCE, canonical.RECORDED_AT],
        "properties": {
            "subject": {**TEXT, "description": "Always the customer id."},
            canonical.POSITION: {
                "type": "integer",
                "minimum": 1,
                "description": "Global position in the event store, increasing in commit order.",
            },
            canonical.SEQUENCE: {
                "type": "integer",
                "minimum": 1,
                "description": "1-based number of the event among its customer's events.",
            },
            canonical.RECORDED_AT: {**TEXT, "format": "date-time", "description": "When the event store accepted it."},
            canonical.REDACTED: {
                "const": True,
                "description": "Present once the customer was erased: the event's personal fields are gone.",
            },
            canonical.HEADER_TRACEPARENT: {
                **TEXT,
                "description": "The trace of the request or record that carried the event, unless it brought its own.",
            },
        },
    },
    "traceparent": {**TEXT, "description": "W3C Trace Context, when the producer sent one."},
    "intake-headers": {
        "description": "Structured mode: any headers but `ce_specversion`, unless `content-type` is "
        "`application/cloudevents+json`; a valid traceparent continues the trace. A dead letter keeps them all.",
        "type": "object",
        "properties": {canonical.HEADER_TRACEPARENT: component("traceparent")},
    },
    "intake-binary-headers": {
        "description": "CloudEvents binary mode: each attribute in a `ce_` header, its name lower-case, its value "
        "UTF-8. `content-type` is the datacontenttype. A dead letter keeps them all.",
        "type": "object",
        "required": [f"{CE}specversion", f"{CE}id", f"{CE}source", f"{CE}type", f"{CE}time"],
        "properties": {
            f"{CE}specversion": _attribute("Marks binary mode.", const="1.0"),
            f"{CE}id": _attribute("The producer's idempotency key."),
            f"{CE}source": _attribute("Who produced it."),
            f"{CE}type": _attribute("The event type, with its major version."),
            f"{CE}time": _attribute("When it happened, RFC 3339 with a time zone.", format="date-time"),
            f"{CE}subject": _attribute("The customer id; defaults to data's."),
            f"{CE}dataschema": _attribute("A URI of the data's schema."),
            canonical.HEADER_CONTENT_TYPE: _attribute("The data's type; absent means JSON.", const="application/json"),
            canonical.HEADER_TRACEPARENT: component("traceparent"),
        },
        "patternProperties": {f"^{CE}[a-z0-9]{{1,20}}$": _attribute("An extension attribute, e.g. ce_traceparent.")},
    },
    "dead-letter-headers": {
        "description": "The refused record's own headers, followed by these.",
        "type": "object",
        "required": [topics.DLQ_REASON, topics.DLQ_DETAIL, topics.DLQ_TOPIC, topics.DLQ_PARTITION, topics.DLQ_OFFSET],
        "properties": {
            topics.DLQ_REASON: {
                **TEXT,
                "description": "A short code to group by: invalid_json, unknown_type, "
                "validation_failed, unknown_identity, customer_erased, ...",
            },
            topics.DLQ_DETAIL: {
                **TEXT,
                "description": "Field paths and messages for the producer's engineers, cut short when long.",
            },
            topics.DLQ_TOPIC: {**TEXT, "description": "The topic the record was read from."},
            topics.DLQ_PARTITION: {**TEXT, "pattern": "^[0-9]+$", "description": "Its partition, in decimal."},
            topics.DLQ_OFFSET: {**TEXT, "pattern": "^[0-9]+$", "description": "Its offset, in decimal."},
        },
    },
    "view-headers": {
        "description": "traceparent: the latest trace among the events the view was updated with, continued.",
        "type": "object",
        "properties": {canonical.HEADER_TRACEPARENT: component("traceparent")},
    },
    "intake-key": {"description": "Any key, or none: the customer comes from the value. A dead letter keeps it."},
    "customer-id": {**TEXT, "description": "The customer id, UTF-8."},
    "account-id": {**TEXT, "description": "The account id, UTF-8."},
}


def schemas(documents: dict[str, Json]) -> Json:
    """The committed schemas the document uses, by reference, the stored identity events, keys and headers."""
    missing = {*EVENT_TYPES, CUSTOMER_VIEW, ACCOUNT_VIEW} - set(documents)
    if missing:
        raise KeyError(f"no schema for {', '.join(sorted(missing))}")
    committed = {name: reference(schema_ref(name)) for name in [*EVENT_TYPES, CUSTOMER_VIEW, ACCOUNT_VIEW]}
    stored = {t + STORED: _stored_identity(documents[t], t + STORED) for t in STORED_IDENTITY_TYPES}
    return {**committed, **stored, **deepcopy(TRANSPORT)}


def _stored_identity(schema: Json, name: str) -> Json:
    """The committed schema with `data.identity` as the store keeps it, its `$defs` reached inside the document."""
    if "IdentityRef" not in schema.get("$defs", {}):
        raise KeyError(f"{name}: the committed schema has no IdentityRef to replace")
    stored = {key: value for key, value in schema.items() if key not in ("$id", "$schema")}
    stored["title"] = f"{schema['title']} as stored"
    stored["$defs"] = {**schema["$defs"], "IdentityRef": STORED_IDENTITY}
    rebased: Json = _rebased(stored, f"#/components/schemas/{name}")
    return rebased


def _rebased(node: Any, base: str) -> Any:
    """A copy of `node` whose `#/$defs/...` references point under `base` instead of at the document's root."""
    if isinstance(node, dict):
        return {
            key: base + value[1:] if key == "$ref" and value.startswith("#/$defs/") else _rebased(value, base)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rebased(item, base) for item in node]
    return node
