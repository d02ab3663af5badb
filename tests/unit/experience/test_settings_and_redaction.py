"""Settings that guard personal data, and the redaction paths the migration froze."""

import pytest
from pydantic import ValidationError

from contracts.auth import Scope, describe, new_key
from contracts.catalog import EXTRA_PREFERENCES, PERSONAL_FIELDS
from contracts.event_types import CONSENT_CHANGED, PREFERENCE_STATED, TOUCHPOINT_RECORDED
from contracts.preferences import CATALOGUE
from services.experience.__main__ import load_settings
from services.experience.settings import ExperienceSettings

from .fakes import KEPT_PREFERENCES, REDACTED_PATHS, redacted

URL = "postgresql+asyncpg://u@h/db"
KEYS = describe("ops", new_key(), [Scope.ADMIN])


def test_production_refuses_to_start_without_a_real_identity_hash_key() -> None:
    with pytest.raises(ValidationError, match="IDENTITY_HASH_KEY"):
        ExperienceSettings(database_url=URL, environment="production", kafka_idempotence=True)
    with pytest.raises(ValidationError, match="IDENTITY_HASH_KEY"):
        ExperienceSettings(
            database_url=URL, environment="production", kafka_idempotence=True, identity_hash_key="short"
        )

    key = "k" * 43
    settings = ExperienceSettings(
        database_url=URL, environment="production", kafka_idempotence=True, identity_hash_key=key, api_keys=KEYS
    )
    assert settings.identity_key() == key.encode() and key not in repr(settings)


def test_development_has_a_fixed_key_so_links_survive_restarts() -> None:
    assert ExperienceSettings(database_url=URL).identity_key() == ExperienceSettings(database_url=URL).identity_key()


def test_the_migration_redacts_every_personal_field_of_the_contracts() -> None:
    for event_type, fields in PERSONAL_FIELDS.items():
        if event_type == PREFERENCE_STATED:
            continue  # the next test
        frozen = {".".join(path[1:]) for path in REDACTED_PATHS[event_type]}
        for field in fields:
            assert field in frozen or any(field.startswith(f + ".") for f in frozen), (event_type, field)


def test_the_migration_keeps_only_the_preferences_the_contracts_do_not_call_personal() -> None:
    personal = {field.removeprefix("preferences.") for field in PERSONAL_FIELDS[PREFERENCE_STATED]}

    # The migration keeps a list of names and drops every other one, which is right only while extras are personal.
    assert EXTRA_PREFERENCES in PERSONAL_FIELDS[PREFERENCE_STATED]
    assert personal - {"*"} <= set(CATALOGUE)
    assert set(KEPT_PREFERENCES) == set(CATALOGUE) - personal, "a new migration must freeze the changed list"


def test_redaction_is_idempotent_and_marks_only_what_it_changed() -> None:
    event = {"type": "t", "data": {"customer_id": "c", "note": "x", "channel": "web"}}

    once = redacted(event, TOUCHPOINT_RECORDED)

    assert once == {"type": "t", "data": {"customer_id": "c", "channel": "web"}, "redacted": True}
    assert redacted(once, TOUCHPOINT_RECORDED) == once
    assert redacted(event, CONSENT_CHANGED) == event


def test_production_refuses_to_start_without_api_keys() -> None:
    with pytest.raises(ValidationError, match="RAPPORT_EXPERIENCE_API_KEYS"):
        ExperienceSettings(
            database_url=URL, environment="production", kafka_idempotence=True, identity_hash_key="k" * 43
        )


def test_a_malformed_key_list_refuses_to_start_naming_the_entry() -> None:
    with pytest.raises(ValidationError, match="'pos-sync'"):
        ExperienceSettings(database_url=URL, api_keys="pos-sync:abc:events:write")
    assert ExperienceSettings(database_url=URL, api_keys="").keys() == []


def test_the_start_error_names_each_problem_but_never_a_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAPPORT_EXPERIENCE_DATABASE_URL", URL)
    monkeypatch.setenv("RAPPORT_EXPERIENCE_ENVIRONMENT", "production")
    monkeypatch.setenv("RAPPORT_EXPERIENCE_KAFKA_IDEMPOTENCE", "true")
    monkeypatch.setenv("RAPPORT_EXPERIENCE_IDENTITY_HASH_KEY", "an-identity-secret-" + "x" * 40)
    monkeypatch.setenv("RAPPORT_EXPERIENCE_KAFKA_SASL_PASSWORD", "a-kafka-secret")

    with pytest.raises(SystemExit) as stopped:
        load_settings()

    message = str(stopped.value.code)
    assert "refusing to start" in message and "SASL settings" in message
    assert "an-identity-secret" not in message and "a-kafka-secret" not in message
