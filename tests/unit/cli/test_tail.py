"""`rapport tail` prints every record as it is: brackets in a customer's note are text, not rich markup."""

from types import SimpleNamespace
from typing import Any

import orjson
import pytest

from contracts.event_types import TOUCHPOINT_RECORDED
from services.cli.tail import _print_records


class OneBatch:
    """A consumer that hands out `records` once, then nothing."""

    def __init__(self, records: list[Any]) -> None:
        self.batches = [{0: records}]

    async def getmany(self, timeout_ms: int) -> dict[int, list[Any]]:
        return self.batches.pop() if self.batches else {}


async def test_brackets_in_a_value_are_printed_as_they_are(capsys: pytest.CaptureFixture[str]) -> None:
    note = "asked for [bold] print, then wrote [/b] by mistake"
    event = {"type": TOUCHPOINT_RECORDED, "id": "e-1", "position": 7, "data": {"note": note}}
    record = SimpleNamespace(partition=2, offset=41, key=b"c-1", headers=[], value=orjson.dumps(event))

    await _print_records(OneBatch([record]), count=1, idle_exit=None)  # type: ignore[arg-type]

    line = f'[2@41] c-1: {TOUCHPOINT_RECORDED} id=e-1 @7 data={{"note":"{note}"}}'
    assert capsys.readouterr().out == line + "\n"
