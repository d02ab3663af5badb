"""The committed AsyncAPI document is how other teams learn the Kafka interface: current, complete, resolvable."""

import json
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from contracts import canonical, topics
from contracts.asyncapi import message_id
from contracts.catalog import EVENT_TYPES, IDENTITY_LINKED, IDENTITY_UNLINKED
from contracts.export import ASYNCAPI_FILE, SCHEMA_DIR, asyncapi_document, render, schemas
from contracts.views import AccountView, CustomerView

BASE = ASYNCAPI_FILE.as_uri()
HASH = "ab" * 32


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(ASYNCAPI_FILE.read_text())
    return loaded


def refs(node: Any) -> list[str]:
    """Every `$ref` inside `node`."""
    if isinstance(node, dict):
        own = [node["$ref"]] if "$ref" in node else []
        return own + [ref for value in node.values() for ref in refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in refs(item)]
    return []


def follow(document: dict[str, Any], pointer: str) -> Any:
    node: Any = document
    for part in pointer.removeprefix("/").split("/") if pointer else []:
        node = node[int(part)] if isinstance(node, list) else node[part.replace("~1", "/").replace("~0", "~")]
    return node


def follow_refs(document: dict[str, Any], node: Any) -> Any:
    """`node` with its in-document references replaced by what they point at (files stay references)."""
    if isinstance(node, dict) and str(node.get("$ref", "")).startswith("#"):
        return follow_refs(document, follow(document, node["$ref"][1:]))
    if isinstance(node, dict):
        return {key: follow_refs(document, value) for key, value in node.items()}
    if isinstance(node, list):
        return [follow_refs(document, item) for item in node]
    return node


def committed_file(ref: str) -> str:
    """The committed schema a `$ref` to a file names, by stem; fails for any other file."""
    path = (ASYNCAPI_FILE.parent / ref.partition("#")[0]).resolve()
    assert path.parent == SCHEMA_DIR.resolve() and path.stem in schemas(), f"{ref} is not a committed schema"
    return path.stem


def payload_validator(document: dict[str, Any], channel: str, message: str) -> jsonschema.Draft202012Validator:
    """Validates against a message's payload, resolving its references the way an offline consumer would."""

    def retrieve(uri: str) -> Resource[Any]:  # the files by relative path, then by the $id inside them
        return DRAFT202012.create_resource(json.loads((SCHEMA_DIR / uri.rsplit("/", 1)[-1]).read_text()))

    registry: Registry[Any] = Registry(retrieve=retrieve).with_resource(BASE, DRAFT202012.create_resource(document))
    schema = {"$ref": f"{BASE}#/channels/{channel}/messages/{message}/payload"}
    return jsonschema.Draft202012Validator(schema, registry=registry)


def relayed(event: dict[str, Any], **extensions: Any) -> dict[str, Any]:
    """`event` as cx.events.v1 carries it."""
    attributes = {"subject": event["data"]["customer_id"], "position": 42, "sequence": 3}
    return {**event, **attributes, "recordedat": "2026-03-01T09:00:01.000000Z", **extensions}


def identity_event(identity: dict[str, str]) -> dict[str, Any]:
    return {"specversion": "1.0", "id": "l-1", "source": "crm", "type": IDENTITY_LINKED,
            "time": "2026-03-01T10:00:00Z", "data": {"customer_id": "c-1", "identity": identity}}  # fmt: skip


def test_committed_asyncapi_matches_the_code() -> None:
    assert ASYNCAPI_FILE.exists(), f"{ASYNCAPI_FILE.name} missing: run `make schemas`"
    assert ASYNCAPI_FILE.read_text() == render(asyncapi_document()), (
        f"{ASYNCAPI_FILE.name} is stale: run `make schemas`"
    )


def test_it_is_asyncapi_3(document: dict[str, Any]) -> None:
    assert document["asyncapi"] == "3.0.0"


def test_every_topic_is_a_channel(document: dict[str, Any]) -> None:
    names = {value for name, value in vars(topics).items() if name.isupper() and value.startswith("cx.")}
    assert {channel["address"] for channel in document["channels"].values()} == names
    assert {channel["bindings"]["kafka"]["topic"] for channel in document["channels"].values()} == names


@pytest.mark.parametrize("channel", ["intake", "events"])
def test_every_event_type_is_a_message(document: dict[str, Any], channel: str) -> None:
    messages = document["channels"][channel]["messages"].values()
    structured = [m["name"] for m in messages if m["contentType"] == "application/cloudevents+json"]
    assert sorted(structured) == sorted(EVENT_TYPES)


def test_intake_takes_every_event_type_in_binary_mode_too(document: dict[str, Any]) -> None:
    messages = document["channels"]["intake"]["messages"]
    binary = {name: m for name, m in messages.items() if m["contentType"] == "application/json"}
    assert sorted(binary) == sorted(f"{message_id(t)}Binary" for t in EVENT_TYPES)
    headers = follow_refs(document, binary["TouchpointRecordedBinary"]["headers"])["allOf"]
    assert {"ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time"} <= set(headers[0]["required"])
    assert headers[1]["properties"]["ce_type"]["const"] == "cx.touchpoint.recorded.v1"


def test_a_binary_intake_payload_is_the_data_alone(document: dict[str, Any], touchpoint: dict[str, Any]) -> None:
    validator = payload_validator(document, "intake", "TouchpointRecordedBinary")
    validator.validate(touchpoint["data"])
    assert not validator.is_valid(touchpoint)


def test_every_reference_resolves_offline(document: dict[str, Any]) -> None:
    for ref in refs(document):
        where, _, pointer = ref.partition("#")
        target = json.loads((SCHEMA_DIR / f"{committed_file(ref)}.json").read_text()) if where else document
        assert follow(target, pointer) is not None, ref


def test_every_operation_uses_its_own_channel(document: dict[str, Any]) -> None:
    for operation in document["operations"].values():
        channel = operation["channel"]["$ref"]
        assert all(message["$ref"].startswith(f"{channel}/messages/") for message in operation["messages"])


# Message name -> the committed schema its payload rests on. Identity events on cx.events.v1 rest on none: they
# carry a hash where the committed schema has the identifier (test_a_relayed_identity_event_... below).
PAYLOADS = {
    "intake": {t: t for t in EVENT_TYPES},
    "events": {t: t for t in EVENT_TYPES if t not in (IDENTITY_LINKED, IDENTITY_UNLINKED)},
    "customerViews": {"customer-view.v1": "customer-view.v1"},
    "accountViews": {"account-view.v1": "account-view.v1"},
}


@pytest.mark.parametrize("channel", sorted(PAYLOADS))
def test_payloads_rest_on_the_committed_schemas(document: dict[str, Any], channel: str) -> None:
    messages = {message["name"]: message for message in document["channels"][channel]["messages"].values()}
    for name, stem in PAYLOADS[channel].items():
        payload = follow_refs(document, messages[name]["payload"])
        assert [committed_file(ref) for ref in refs(payload) if not ref.startswith("#")] == [stem], name


def test_dead_letters_carry_the_headers_topics_names(document: dict[str, Any]) -> None:
    headers = document["components"]["schemas"]["dead-letter-headers"]
    names = {value for name, value in vars(topics).items() if name.startswith("DLQ_")}
    assert set(headers["required"]) == set(headers["properties"]) == names


def test_relayed_events_name_the_headers_canonical_names(document: dict[str, Any]) -> None:
    headers = document["channels"]["events"]["messages"]["TouchpointRecorded"]["headers"]
    assert headers["required"] == [canonical.HEADER_CONTENT_TYPE, canonical.HEADER_TYPE, canonical.HEADER_ID]
    assert set(headers["properties"]) == {
        canonical.HEADER_CONTENT_TYPE,
        canonical.HEADER_TYPE,
        canonical.HEADER_ID,
        canonical.HEADER_TRACEPARENT,
    }


def test_an_intake_touchpoint_validates_a_typo_not(document: dict[str, Any], touchpoint: dict[str, Any]) -> None:
    validator = payload_validator(document, "intake", "TouchpointRecorded")
    validator.validate(touchpoint)
    touchpoint["data"]["mood"] = "great"
    assert not validator.is_valid(touchpoint)


def test_a_relayed_event_carries_its_position(document: dict[str, Any], touchpoint: dict[str, Any]) -> None:
    validator = payload_validator(document, "events", "TouchpointRecorded")
    validator.validate(relayed(touchpoint))
    assert not validator.is_valid(touchpoint)


def test_a_relayed_identity_event_carries_a_hash_never_the_identifier(document: dict[str, Any]) -> None:
    validator = payload_validator(document, "events", "IdentityLinked")
    validator.validate(relayed(identity_event({"kind": "email", "value_hash": HASH})))
    validator.validate(relayed(identity_event({"kind": "email"}), redacted=True))
    assert not validator.is_valid(relayed(identity_event({"kind": "email", "value": "ana@example.org"})))
    payload_validator(document, "intake", "IdentityLinked").validate(identity_event({"kind": "email", "value": "a"}))


def test_views_validate_and_erasure_leaves_a_tombstone(document: dict[str, Any]) -> None:
    customer = CustomerView(customer_id="c-1", version=2, position=42).model_dump(mode="json")
    payload_validator(document, "customerViews", "CustomerView").validate(customer)
    account = AccountView(account_id="a-1", version=1, position=42).model_dump(mode="json")
    payload_validator(document, "accountViews", "AccountView").validate(account)
    tombstone = payload_validator(document, "customerViews", "CustomerViewErased")
    assert tombstone.is_valid(None) and not tombstone.is_valid(customer)
