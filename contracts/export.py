"""Writes the JSON Schema of every event and view into contracts/schemas, and the AsyncAPI document of the Kafka
interface beside them (run: python -m contracts.export)."""

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from contracts import asyncapi
from contracts.catalog import EVENT_TYPES
from contracts.views import AccountView, ContactAnswer, CustomerView, TimelinePage

SCHEMA_DIR = Path(__file__).parent / "schemas"
ASYNCAPI_FILE = Path(__file__).parent / "asyncapi.json"  # beside schemas/: its $refs are relative
VIEWS: dict[str, type[BaseModel]] = {
    "customer-view.v1": CustomerView,
    "timeline-page.v1": TimelinePage,
    "account-view.v1": AccountView,
    "contact-answer.v1": ContactAnswer,
}


def schemas() -> dict[str, dict[str, Any]]:
    """Every published schema by file stem: events by their type, views by name."""
    documents: dict[str, dict[str, Any]] = {}
    for name, model in {**EVENT_TYPES, **VIEWS}.items():
        schema = model.model_json_schema(mode="validation")
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"https://rapport.dev/schemas/{name}.json"
        documents[name] = schema
    return documents


def asyncapi_document() -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document of the Kafka interface, referring to the schemas above."""
    return asyncapi.build(schemas())


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def main() -> None:
    SCHEMA_DIR.mkdir(exist_ok=True)
    for name, schema in schemas().items():
        (SCHEMA_DIR / f"{name}.json").write_text(render(schema))
        sys.stdout.write(f"wrote contracts/schemas/{name}.json\n")
    ASYNCAPI_FILE.write_text(render(asyncapi_document()))
    sys.stdout.write(f"wrote contracts/{ASYNCAPI_FILE.name}\n")


if __name__ == "__main__":
    main()
