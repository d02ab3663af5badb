"""CloudEvents binary content mode: the structured document that `ce-*` (HTTP) or `ce_*` (Kafka) headers and a body
stand for, so both modes are validated by the one parser."""

from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

import orjson

HTTP_PREFIX = "ce-"
KAFKA_PREFIX = "ce_"
SPECVERSION = "specversion"
JSON = "application/json"
# Both bindings: a content type under application/cloudevents names an event format, i.e. structured mode.
STRUCTURED_PREFIX = "application/cloudevents"
_MAX_ATTRIBUTES = 32  # the CloudEvents core attributes plus the 16 extensions the envelope accepts, with room


class BinaryModeError(ValueError):
    """The headers or body cannot stand for an event; `path` names the attribute (or `data`) at fault."""

    def __init__(self, reason: str, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.reason = reason
        self.path = path
        self.message = message


def media_type(content_type: str | None) -> str:
    """`application/json` of `Application/JSON; charset=utf-8`; empty when there is none."""
    return (content_type or "").split(";")[0].strip().lower()


def is_binary(content_type: str | None, header_names: Iterable[str], prefix: str) -> bool:
    """Binary mode: a `specversion` header and no event format as the content type (both bindings, section 3)."""
    return not media_type(content_type).startswith(STRUCTURED_PREFIX) and prefix + SPECVERSION in header_names


def http_attributes(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The attributes of `ce-*` headers; HTTP header names are case-insensitive, values percent-encoded."""
    found = [(name.lower(), value) for name, value in headers]
    return _attributes(((name, _http_value(name, value)) for name, value in found), HTTP_PREFIX)


def kafka_attributes(headers: Iterable[tuple[str, bytes | None]]) -> dict[str, str]:
    """The attributes of `ce_*` headers; Kafka header names are case-sensitive and values UTF-8 bytes."""
    return _attributes(((name, _utf8(name, value)) for name, value in headers), KAFKA_PREFIX)


def document(attributes: dict[str, str], content_type: str | None, body: bytes | None) -> dict[str, Any]:
    """The structured-mode event: the attributes as they are and the body, decoded as JSON, as `data`.

    No content type means JSON: producers (the SDKs among them) often leave it out when the data is JSON.
    An empty body leaves `data` out, so the parser names it as missing.
    """
    kind = media_type(content_type) or JSON
    if kind != JSON:
        message = f"binary mode takes JSON data only (Content-Type {JSON}), not {kind!r}"
        raise BinaryModeError("unsupported_media_type", "datacontenttype", message)
    event: dict[str, Any] = {name: value for name, value in attributes.items() if name != "data"}
    event["datacontenttype"] = JSON  # the binding's Content-Type is the datacontenttype, whatever ce- says
    if body:
        try:
            event["data"] = orjson.loads(body)
        except orjson.JSONDecodeError as error:
            raise BinaryModeError("invalid_json", "data", f"the data is not JSON in UTF-8: {error}") from None
    return event


def _attributes(headers: Iterable[tuple[str, str | None]], prefix: str) -> dict[str, str]:
    attributes: dict[str, str] = {}
    for name, value in headers:
        if not name.startswith(prefix) or value is None:
            continue
        attribute = name.removeprefix(prefix)
        if attribute in attributes:
            raise BinaryModeError("validation_failed", attribute, "the attribute is given more than once")
        attributes[attribute] = value
        if len(attributes) > _MAX_ATTRIBUTES:
            raise BinaryModeError("validation_failed", "", f"at most {_MAX_ATTRIBUTES} attributes are accepted")
    return attributes


def _http_value(name: str, value: str) -> str | None:
    if not name.startswith(HTTP_PREFIX):
        return None
    try:  # servers hand header bytes over as Latin-1; the binding sends UTF-8, percent-encoded
        return unquote(value.encode("latin-1").decode("utf-8"), errors="strict")
    except UnicodeError:
        raise BinaryModeError("not_utf8", name.removeprefix(HTTP_PREFIX), "the value is not UTF-8") from None


def _utf8(name: str, value: bytes | None) -> str | None:
    if not name.startswith(KAFKA_PREFIX) or value is None:
        return None
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise BinaryModeError("not_utf8", name.removeprefix(KAFKA_PREFIX), "the value is not UTF-8") from None
