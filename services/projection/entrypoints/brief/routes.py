"""The brief's addresses: /brief/ (sign in, then find a customer), /brief/customers/{id}, /brief/accounts/{id}.

A person signs in once with an API key and gets an opaque session cookie (HttpOnly, SameSite=Strict, Secure
outside development); every page after that acts with the key's scopes, rate limit and redaction, as the API does.
"""

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from contracts.auth import Scope
from contracts.vocabulary import Channel, Feeling, TouchpointKind
from services.projection.domain import account_as_of
from services.projection.entrypoints.api_common import MAX_ID, AccountId, CustomerId, now_of, reader_of
from services.projection.entrypoints.auth import Gatekeeper, Reader
from services.projection.entrypoints.brief.identity import IDENTITY_KINDS, IdentityClient, IdentityLookupError
from services.projection.entrypoints.brief.pages import TimelineQuery, customer_content, render
from services.projection.entrypoints.brief.sessions import COOKIE, BriefSession, SessionStore

router = APIRouter(prefix="/brief")
MAX_FORM_BYTES = 4096
MAX_CURSOR = 200
NO_VIEWS = "That key may not read customer views (it lacks the views:read scope). Sign in with another key."


@dataclass
class BriefConfig:
    sessions: SessionStore
    identities: IdentityClient | None = None
    secure_cookie: bool = True


class SignInRequiredError(Exception):
    """No live session: the person is sent to the sign-in page."""


class NotAllowedError(Exception):
    """A live session whose key may not read customer views (403) or is over its rate limit (429): said on a page,
    with a way to sign in with another key, rather than as the API's JSON."""

    def __init__(self, error: HTTPException, session: BriefSession) -> None:
        super().__init__(error.detail)
        self.status, self.headers, self.session = error.status_code, error.headers or {}, session


@dataclass(frozen=True, slots=True)
class SignedIn:
    reader: Reader
    session: BriefSession


def config_of(request: Request) -> BriefConfig:
    config: BriefConfig = request.app.state.brief
    return config


async def signed_in(request: Request) -> SignedIn:
    """The session's person, holding views:read and within the key's rate limit (403/429 as for the API)."""
    session = config_of(request).sessions.find(request.cookies.get(COOKIE))
    if session is None:
        raise SignInRequiredError()
    gatekeeper: Gatekeeper = request.app.state.gatekeeper
    try:
        return SignedIn(gatekeeper.admit_key(session.key, Scope.VIEWS_READ), session)
    except HTTPException as error:
        raise NotAllowedError(error, session) from error


Person = Annotated[SignedIn, Depends(signed_in)]


async def form_of(request: Request) -> dict[str, str]:
    """A small urlencoded form; cross-site posts are refused by Origin as well as by the SameSite cookie."""
    # With Referrer-Policy: no-referrer a browser sends `Origin: null` even from the page itself, so Fetch
    # Metadata is asked first; an Origin naming another site is refused as well.
    site = request.headers.get("sec-fetch-site")
    origin = request.headers.get("origin")
    foreign_origin = origin not in (None, "null", f"{request.url.scheme}://{request.url.netloc}")
    if (site is not None and site not in ("same-origin", "none")) or foreign_origin:
        raise _Refused(403, "This form may only be sent from the brief itself.")
    body = (await request.body())[:MAX_FORM_BYTES]
    fields = parse_qs(body.decode("utf-8", "replace"), max_num_fields=8)
    return {name: values[0] for name, values in fields.items()}


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    """The sign-in form, or with a session the find form."""
    session = config_of(request).sessions.find(request.cookies.get(COOKIE))
    if session is None:
        return render("sign_in.html", gatekeeper_enabled=request.app.state.gatekeeper.enabled)
    return render("find.html", person=session, kinds=IDENTITY_KINDS, message=None)


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    form = await form_of(request)
    gatekeeper: Gatekeeper = request.app.state.gatekeeper
    presented = form.get("api_key", "")
    key = gatekeeper.key_for(presented)
    if key is None or Scope.VIEWS_READ not in key.scopes:
        message = "That key is not one this service knows." if key is None else NO_VIEWS
        return render("sign_in.html", 401 if key is None else 403, error=message,
                      gatekeeper_enabled=gatekeeper.enabled)  # fmt: skip
    config = config_of(request)
    session = config.sessions.open(key, presented)
    response = RedirectResponse("/brief/", status_code=303)
    response.set_cookie(
        COOKIE, session.token, httponly=True, samesite="strict", secure=config.secure_cookie, path="/brief"
    )
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    await form_of(request)
    config = config_of(request)
    config.sessions.close(request.cookies.get(COOKIE))
    response = RedirectResponse("/brief/", status_code=303)
    response.delete_cookie(COOKIE, path="/brief", httponly=True, samesite="strict", secure=config.secure_cookie)
    return response


@router.get("/find")
async def find_by_id(person: Person, customer_id: Annotated[str, Query(min_length=1, max_length=MAX_ID)]) -> Response:
    return RedirectResponse(f"/brief/customers/{quote(customer_id.strip(), safe='')}", status_code=303)


@router.post("/find")
async def find_by_identity(request: Request, person: Person) -> Response:
    """By email, phone or loyalty card, through the experience service; needs pii:read, as identifiers are."""
    form = await form_of(request)
    kind, value = form.get("kind", ""), form.get("value", "").strip()

    def page(message: str, status: int) -> Response:
        return render("find.html", status, person=person.session, kinds=IDENTITY_KINDS, message=message)

    if not person.reader.sees_personal_data:
        return page("Finding a customer by email, phone or loyalty card needs a key with pii:read.", 403)
    identities = config_of(request).identities
    if kind not in IDENTITY_KINDS or not value or len(value) > 320 or identities is None:
        return page("Choose what you have (email, phone or loyalty card) and type it in.", 422)
    try:
        customer_id = await identities.customer_of(kind, value, person.session.presented)
    except IdentityLookupError as error:
        return page(f"The lookup failed: {error}.", 502)
    if customer_id is None:
        return page(f"No customer is linked to that {kind.replace('_', ' ')}.", 404)
    return RedirectResponse(f"/brief/customers/{quote(customer_id, safe='')}", status_code=303)


def timeline_query(
    channel: Channel | None = None, kind: TouchpointKind | None = None, feeling: Feeling | None = None,
    cursor: Annotated[str | None, Query(max_length=MAX_CURSOR)] = None,
) -> TimelineQuery:  # fmt: skip
    return TimelineQuery(channel and channel.value, kind and kind.value, feeling and feeling.value, cursor or None)


Timeline = Annotated[TimelineQuery, Depends(timeline_query)]


@router.get("/customers/{customer_id}", response_class=HTMLResponse)
async def customer_brief(customer_id: CustomerId, request: Request, person: Person, query: Timeline) -> Response:
    try:
        content = await customer_content(request, person.reader, customer_id, query)
    except ValueError:
        return render("missing.html", 400, person=person.session, what="That page of the timeline does not exist.")
    if content is None:
        erased = await reader_of(request).is_erased(customer_id)
        return render("erased.html" if erased else "missing.html", 404, person=person.session,
                      what=f"No customer {customer_id} is known here.")  # fmt: skip
    after = str(content["view"]["position"])
    live = f"/brief/customers/{quote(customer_id, safe='')}/live?{query.query_string(cursor=None, after=after)}"
    return render("customer.html", person=person.session, live_url=None if query.cursor else live, **content)


@router.get("/accounts/{account_id}", response_class=HTMLResponse)
async def account_brief(account_id: AccountId, request: Request, person: Person) -> Response:
    view = await reader_of(request).get_account(account_id)
    if view is None:
        return render("missing.html", 404, person=person.session, what=f"No account {account_id} is known here.")
    account = person.reader.redact(account_as_of(view, now_of(request)))
    return render("account.html", person=person.session, account=account,
                  sees_personal=person.reader.sees_personal_data)  # fmt: skip


def refused(request: Request, error: Exception) -> Response:
    assert isinstance(error, _Refused)
    return render("missing.html", error.status, what=error.message)


def not_allowed(request: Request, error: Exception) -> Response:
    assert isinstance(error, NotAllowedError)
    if request.url.path.endswith("/live"):  # an EventSource reads no page: a short answer, and it stops retrying
        return Response(str(error), status_code=error.status, headers=error.headers, media_type="text/plain")
    response = render("not_allowed.html", error.status, person=error.session, rate_limited=error.status == 429)
    response.headers.update(error.headers)
    return response


def to_sign_in(request: Request, error: Exception) -> Response:
    if request.url.path.endswith("/live"):
        return Response("sign in again", status_code=401, media_type="text/plain")  # EventSource stops retrying
    return RedirectResponse("/brief/", status_code=303)
