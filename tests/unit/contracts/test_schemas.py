"""The committed JSON Schema files are what other teams code against: they must match the models."""

import json

import jsonschema
import pytest

from contracts.export import SCHEMA_DIR, render, schemas


@pytest.mark.parametrize("name", sorted(schemas()))
def test_committed_schema_matches_the_model(name: str) -> None:
    committed = SCHEMA_DIR / f"{name}.json"
    assert committed.exists(), f"{committed.name} missing: run `make schemas`"
    assert committed.read_text() == render(schemas()[name]), f"{committed.name} is stale: run `make schemas`"


def test_no_stray_schema_files() -> None:
    assert {p.stem for p in SCHEMA_DIR.glob("*.json")} == set(schemas())


def test_a_valid_touchpoint_passes_the_exported_schema(touchpoint: dict) -> None:
    schema = json.loads((SCHEMA_DIR / "cx.touchpoint.recorded.v1.json").read_text())
    jsonschema.validate(touchpoint, schema)


def test_the_exported_schema_refuses_unknown_data_fields(touchpoint: dict) -> None:
    schema = json.loads((SCHEMA_DIR / "cx.touchpoint.recorded.v1.json").read_text())
    touchpoint["data"]["mood"] = "great"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(touchpoint, schema)
