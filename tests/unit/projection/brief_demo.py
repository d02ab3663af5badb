"""The demo customers (services/cli/demo.py) folded into a FakeViewReader, with the Hollis Plastics roll-up: what
the brief's tests look at, as a newcomer would after `make run`."""

from typing import Any

from services.cli import demo
from services.projection.domain import AccountRules, MemberRecord, event_from_record, roll_up
from tests.unit.projection.fake_view_reader import FakeViewReader

ANA, ZOE = "c-ana-alvarez", "c-zoe-park"
TEAM = {"c-dana-hollis-eng": "technical", "c-raj-hollis-buy": "purchasing", "c-helen-hollis-mgr": "decision_maker"}
ANA_CARD = "LC-20417"


def stored(document: dict[str, Any], position: int, cards: dict[str, str]) -> dict[str, Any]:
    """A demo CloudEvent as the experience service would put it on cx.events.v1 (identities resolved)."""
    data = dict(document["data"])
    identity = data.get("identity")
    if identity and document["type"].startswith("cx.identity"):
        cards[identity["value"]] = data["customer_id"]
    if "customer_id" not in data:
        data["customer_id"] = cards[data.pop("identity")["value"]]
    return {**document, "data": data, "subject": data["customer_id"], "datacontenttype": "application/json",
            "position": position, "sequence": position, "recordedat": document["time"]}  # fmt: skip


def demo_reader() -> FakeViewReader:
    reader, cards = FakeViewReader(), {}
    events: dict[str, list[Any]] = {}
    documents = demo.family_restaurant() + demo.impulse_buyer() + demo.buying_team()
    for position, document in enumerate(documents, 1):
        record = stored(document, position, cards)
        events.setdefault(record["subject"], []).append(event_from_record(record))
    for customer_id, folded in events.items():
        reader.fold(customer_id, folded)
    reader.accounts[demo.ACCOUNT] = account_of(reader)
    return reader


def account_of(reader: FakeViewReader) -> dict[str, Any]:
    records = [
        MemberRecord(customer, role, True, 1, view["version"], view["position"], view["updated_at"],
                     view["experience"], view["preferences"], view["experience"]["touchpoints"])
        for customer, role in TEAM.items() if (view := reader.views.get(customer)) is not None
    ]  # fmt: skip
    return roll_up(demo.ACCOUNT, records, AccountRules())
