"""`rapport emit` fails loudly: an answer other than 2xx, an unreachable service or a failed Kafka send exits 1
with the reason on stderr, so a script or CI step that emits notices."""

import httpx
import orjson
import pytest
import typer
from typer.testing import CliRunner

from services.cli.embedded import free_port
from services.cli.emit import build_touchpoint, send_http
from services.cli.main import app

EVENT = build_touchpoint("c-1", "store", "visit", 0.5, None, None)


def answering(status: int, body: dict[str, object]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/events" and orjson.loads(request.content)["id"] == EVENT["id"]
        return httpx.Response(status, json=body)

    return httpx.MockTransport(handle)


def test_an_accepted_event_prints_the_answer_and_exits_normally(capsys: pytest.CaptureFixture[str]) -> None:
    send_http("http://experience", EVENT, "rk_key", answering(202, {"accepted": [EVENT["id"]]}))

    out, err = capsys.readouterr()
    assert out.startswith("202 ") and EVENT["id"] in out
    assert err == ""


@pytest.mark.parametrize(
    ("status", "message"),
    [(401, "send a valid API key"), (403, "lacks the scope"), (422, "data.channel: unknown"), (503, "store down")],
)
def test_a_refused_event_exits_1_with_the_answer_on_stderr(
    capsys: pytest.CaptureFixture[str], status: int, message: str
) -> None:
    with pytest.raises(typer.Exit) as exited:
        send_http("http://experience", EVENT, None, answering(status, {"errors": [{"message": message}]}))

    out, err = capsys.readouterr()
    assert exited.value.exit_code == 1
    assert err.startswith(f"{status} ") and message in err
    assert out == ""


def test_an_unreachable_service_or_broker_exits_1_with_the_reason() -> None:
    port = free_port()  # nothing listens there
    runner = CliRunner()

    http = runner.invoke(app, ["emit", "--customer", "c-1", "--url", f"http://127.0.0.1:{port}"])
    kafka = runner.invoke(app, ["emit", "--customer", "c-1", "--via", "kafka", "--bootstrap", f"127.0.0.1:{port}"])

    assert http.exit_code == 1 and "could not reach" in http.stderr
    assert kafka.exit_code == 1 and "could not send" in kafka.stderr
