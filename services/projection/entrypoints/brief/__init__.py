"""The customer brief: the frontline page served by the projection service (DESIGN.md §5)."""

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from services.projection.entrypoints.brief import live as _live  # noqa: F401  (adds the live route to the router)
from services.projection.entrypoints.brief.identity import IdentityClient
from services.projection.entrypoints.brief.pages import TEMPLATES
from services.projection.entrypoints.brief.routes import (
    BriefConfig,
    NotAllowedError,
    SignInRequiredError,
    _Refused,
    not_allowed,
    refused,
    router,
    signed_in,
    to_sign_in,
)
from services.projection.entrypoints.brief.security import BriefHeaders
from services.projection.entrypoints.brief.sessions import SessionStore

STATIC = TEMPLATES.parent / "static"
__all__ = ["BriefConfig", "IdentityClient", "SessionStore", "install_brief", "signed_in"]


def install_brief(app: FastAPI, config: BriefConfig | None = None) -> None:
    """Mount the brief's pages, its static files and its headers on the projection's app."""
    app.state.brief = config or BriefConfig(SessionStore(), secure_cookie=False)
    app.include_router(router)
    app.mount("/brief/static", StaticFiles(directory=STATIC), name="brief-static")
    app.add_exception_handler(SignInRequiredError, to_sign_in)
    app.add_exception_handler(_Refused, refused)
    app.add_exception_handler(NotAllowedError, not_allowed)
    app.add_middleware(BriefHeaders)
