"""Every view route from the app's own list: 401 without a key, 403 without views:read, no personal fields
without pii:read."""

from collections.abc import AsyncIterator

import pytest

from services.projection.entrypoints.auth import Gatekeeper, check_routes
from services.projection.entrypoints.http import create_http_app
from tests.unit.projection.fake_view_reader import FakeViewReader
from tests.unit.projection.keyed_api import KEYS, PERSONAL_NAMES, SECRET, Api, bearer, configured, protected


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    api = Api(Gatekeeper(configured()))
    async with api.client:
        yield api


async def test_every_route_not_open_on_purpose_needs_a_key_with_views_read(api: Api) -> None:
    routes = protected(api.app)
    assert {path for _, path in routes} >= {
        "/v1/customers/{customer_id}", "/v1/customers/{customer_id}/timeline", "/v1/customers/{customer_id}/contact",
        "/v1/customers/{customer_id}/stream", "/v1/accounts/{account_id}",
    }  # fmt: skip
    for method, template in routes:
        for headers in (None, {"Authorization": "Bearer rk_unknown"}, {"Authorization": KEYS["full"][0]}):
            response = await api.call(method, template, headers)
            assert response.status_code == 401, (template, headers)
            assert response.headers["www-authenticate"].startswith("Bearer")
        response = await api.call(method, template, bearer("writer"))
        assert response.status_code == 403, template
        assert "views:read" in response.json()["detail"]
        assert (await api.call(method, template, bearer("full"))).status_code == 200, template


async def test_no_route_answers_a_personal_field_without_pii_read(api: Api) -> None:
    for method, template in protected(api.app):
        response = await api.call(method, template, bearer("plain"))
        assert response.status_code == 200, template
        assert SECRET not in response.text, template
        for field in PERSONAL_NAMES:
            assert f'"{field}"' not in response.text, (template, field)


async def test_pii_read_sees_notes_handlers_and_the_name_to_use(api: Api) -> None:
    seen = {
        template: (await api.call(method, template, bearer("full"))).text for method, template in protected(api.app)
    }
    assert f"agent-{SECRET}" in seen["/v1/customers/{customer_id}/timeline"]
    assert f"Dr. {SECRET}" in seen["/v1/customers/{customer_id}"]
    assert f"{SECRET}y" in seen["/v1/customers/{customer_id}"]  # the observed fallback
    assert f"Dr. {SECRET}" in seen["/v1/customers/{customer_id}/contact"]
    assert f"Dr. {SECRET}" in seen["/v1/accounts/{account_id}"]
    assert f"Dr. {SECRET}" in seen["/v1/customers/{customer_id}/stream"]
    assert f"{SECRET} by the window" in seen["/v1/customers/{customer_id}"]  # extras too


async def test_what_is_left_without_pii_read_is_still_the_view(api: Api) -> None:
    body = (await api.call("GET", "/v1/customers/{customer_id}", bearer("plain"))).json()
    assert set(body["preferences"]) == {"language", "channel"}  # the channel observed; extras and personal ones gone
    assert body["experience"]["open_issues"][0]["case_id"] == "k-1"
    page = (await api.call("GET", "/v1/customers/{customer_id}/timeline", bearer("plain"))).json()
    assert page["items"][0]["kind"] == "complaint" and page["items"][0]["sentiment"] == -0.7


async def test_a_timeline_entry_shows_attributes_only_with_pii_read_and_its_case_id_to_both(api: Api) -> None:
    full = (await api.call("GET", "/v1/customers/{customer_id}/timeline", bearer("full"))).json()["items"][0]
    plain = (await api.call("GET", "/v1/customers/{customer_id}/timeline", bearer("plain"))).json()["items"][0]

    assert full["attributes"] == {"order_number": f"{SECRET}-123", "store": "store-12"}
    assert (full["note"], full["handled_by"]) == (f"{SECRET} said the parcel was wet", f"agent-{SECRET}")
    assert not {"attributes", "note", "handled_by"} & set(plain)
    assert full["case_id"] == plain["case_id"] == "k-1"


async def test_probes_and_metrics_are_open(api: Api) -> None:
    for path in ("/healthz", "/readyz", "/metrics"):
        assert (await api.client.get(path)).status_code == 200, path


def test_an_app_with_an_unguarded_route_is_refused() -> None:
    app = create_http_app(FakeViewReader())

    @app.get("/v1/secrets/{customer_id}")
    async def leak(customer_id: str) -> dict[str, str]:
        return {"customer_id": customer_id}

    with pytest.raises(RuntimeError, match="/v1/secrets"):
        check_routes(app)


async def test_without_configured_keys_the_api_is_open_with_every_scope() -> None:
    api = Api(Gatekeeper([]))
    async with api.client:
        response = await api.call("GET", "/v1/customers/{customer_id}/timeline")
        assert response.status_code == 200 and SECRET in response.text
