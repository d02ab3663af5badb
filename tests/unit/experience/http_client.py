"""The write side's HTTP API over an in-memory store, reached as an upstream system's client reaches it."""

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import FastAPI

from services.experience.entrypoints.http import Limits, create_api
from services.experience.handlers.record_events import EventRecorder

from .fakes import IDENTITIES, FakeEventStore

BATCH = {"content-type": "application/cloudevents-batch+json"}
SINGLE = {"content-type": "application/cloudevents+json"}
SMALL = Limits(max_body_bytes=4096, max_batch_events=3)  # limits a test reaches with a few events


def recording_api(store: FakeEventStore, limits: Limits | None = None, **options: Any) -> FastAPI:
    """The app recording into `store`, identities hashed with the tests' key; `options` as create_api takes them."""
    return create_api(EventRecorder(store, IDENTITIES), store, limits or Limits(), **options)


@contextlib.asynccontextmanager
async def client_of(app: FastAPI, base_url: str = "http://test") -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url) as http:
        yield http
