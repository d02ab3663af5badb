"""The in-memory view reader keeps the same contract as PostgreSQL, so the API and brief tests on it mean something."""

from typing import Any

import pytest

from contracts.event_types import ACCOUNT_MEMBERSHIP_CHANGED, CUSTOMER_ERASED
from services.projection.domain import AccountRules, MemberRecord, StoredEvent, event_from_record, roll_up

from .fake_view_reader import FakeViewReader
from .view_reader_contract import Batch, ViewReaderContract


class FakeSeeding:
    """Folds the records' customers into the fake as the projection would: every event of a customer so far, the
    partition they came from and how far it was applied, erasures, and each account's roll-up of its members."""

    def __init__(self, reader: FakeViewReader) -> None:
        self.reader = reader
        self.events: dict[str, list[StoredEvent]] = {}
        self.roles: dict[str, dict[str, str]] = {}  # account id -> customer id -> role

    async def __call__(self, batch: Batch) -> None:
        for partition, records in batch.items():
            for value in records:
                self._apply(event_from_record(value), value, partition)
            self.reader.applied[partition] = max(
                self.reader.applied.get(partition, 0), *(r["position"] for r in records)
            )
        for account_id in self.roles:
            self.reader.accounts[account_id] = self._account(account_id)

    def _apply(self, event: StoredEvent, value: dict[str, Any], partition: int) -> None:
        customer_id = value["subject"]
        if value["type"] == CUSTOMER_ERASED:
            self.reader.erased.add(customer_id)
            self.reader.views.pop(customer_id, None)
            self.reader.entries.pop(customer_id, None)
            return
        if value["type"] == ACCOUNT_MEMBERSHIP_CHANGED:
            self.roles.setdefault(value["data"]["account_id"], {})[customer_id] = value["data"]["role"]
        self.events.setdefault(customer_id, []).append(event)
        self.reader.fold(customer_id, self.events[customer_id], partition)

    def _account(self, account_id: str) -> dict[str, Any]:
        members = [
            MemberRecord(customer_id, role, True, view["position"], view["version"], view["position"],
                         view["updated_at"], view["experience"], view["preferences"])
            for customer_id, role in self.roles[account_id].items()
            if (view := self.reader.views.get(customer_id)) is not None
        ]  # fmt: skip
        return roll_up(account_id, members, AccountRules())


class TestFakeViewReader(ViewReaderContract):
    @pytest.fixture
    def reader(self) -> FakeViewReader:
        return FakeViewReader()

    @pytest.fixture
    def seed(self, reader: FakeViewReader) -> FakeSeeding:
        return FakeSeeding(reader)
