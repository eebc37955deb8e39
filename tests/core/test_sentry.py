"""Sentry (core/sentry.py): on only with a DSN; an error inside a request reaches it with personal data scrubbed
and credentials dropped (captured in memory by a fake transport)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import sentry_sdk
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from upswing import __version__
from upswing.core.sentry import init_sentry, scrub_event
from upswing.settings import Settings

EMAIL, PHONE, NAME = "ann.lee@example.org", "+1 512 555 0199", "Ann Lee"


class MemoryTransport(Transport):
    """Keeps what the SDK would send."""

    events: list[dict[str, Any]] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        for item in envelope.items:
            if item.type in ("event", "transaction"):
                payload = item.payload.json
                if payload is not None:
                    MemoryTransport.events.append(payload)


@pytest.fixture
def sentry() -> Iterator[list[dict[str, Any]]]:
    MemoryTransport.events = []
    assert init_sentry(Settings(environment="test", release="upswing@test-release"), transport=MemoryTransport)
    yield MemoryTransport.events
    sentry_sdk.get_client().close(timeout=0)
    sentry_sdk.get_global_scope().set_client(None)  # reporting off again for the other tests
    sentry_sdk.get_global_scope().clear()


def test_off_without_a_dsn() -> None:
    assert init_sentry(Settings()) is False


class LeadBody(BaseModel):
    first_name: str
    email: str
    phone: str
    note: str


def test_an_error_in_a_request_reaches_sentry_scrubbed(app: Any, sentry: list[dict[str, Any]]) -> None:
    def explode(body: LeadBody, q: str | None = None) -> None:
        sentry_sdk.add_breadcrumb(message=f"looking up {body.email} / {PHONE}", data={"email": body.email})
        raise ValueError(f"no lead matches {body.email} or {body.phone}")

    app.add_api_route("/api/v1/test/explode", explode, methods=["POST"])
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.post("/api/v1/test/explode", params={"q": NAME},
                             json={"first_name": "Ann", "email": EMAIL, "phone": PHONE, "note": f"call {PHONE}"},
                             headers={"Authorization": "Bearer secret-token-xyz", "Cookie": "session=abc123",
                                      "X-Request-ID": "sentry-req-0001", "X-Api-Key": "key-42"})
    assert answer.status_code == 500
    sentry_sdk.flush()
    errors = [event for event in sentry if event.get("exception")]
    assert len(errors) == 1
    event = errors[0]
    sent = json.dumps(event)
    for secret in (EMAIL, "ann.lee", "5125550199", "512 555 0199", "Ann+Lee", NAME, "secret-token-xyz", "abc123",
                   "key-42"):
        assert secret not in sent, secret
    exception = event["exception"]["values"][-1]
    assert exception["type"] == "ValueError"
    assert exception["value"] == "no lead matches [email] or [phone]"  # what went wrong is still readable
    assert event["environment"] == "test" and event["release"] == "upswing@test-release"
    assert event["tags"]["request_id"] == "sentry-req-0001"
    request = event["request"]
    assert request["method"] == "POST"
    assert "cookies" not in request
    assert {name.lower() for name in request.get("headers", {})} <= {"accept", "accept-encoding", "content-type",
                                                                     "content-length", "host", "user-agent",
                                                                     "x-request-id", "idempotency-key"}
    assert request["query_string"] == "q=[redacted]"
    assert request["data"] == {"first_name": "[redacted]", "email": "[redacted]", "phone": "[redacted]",
                               "note": "call [phone]"}  # the body, masked key by key
    crumbs = [crumb for crumb in event["breadcrumbs"]["values"] if "looking up" in crumb.get("message", "")]
    assert crumbs and crumbs[0]["message"] == "looking up [email] / [phone]"
    assert "user" not in event or set(event["user"]) <= {"id"}
    assert all("vars" not in frame for frame in exception["stacktrace"]["frames"])


def test_scrub_event_masks_every_place_personal_data_goes() -> None:
    event = {
        "message": f"mail {EMAIL}",
        "logentry": {"message": "lead %s", "formatted": f"lead {EMAIL}", "params": [EMAIL]},
        "exception": {"values": [{"type": "KeyError", "value": f"'{PHONE}'",
                                  "stacktrace": {"frames": [{"function": "f", "vars": {"email": EMAIL}}]}}]},
        "breadcrumbs": {"values": [{"message": "GET /api/v1/leads?q=Ann+Lee", "data": {"phone": PHONE}}]},
        "request": {"method": "GET", "url": f"https://upswing.example/api/v1/leads/{PHONE.replace(' ', '')}",
                    "query_string": "q=Ann+Lee&limit=5", "cookies": {"session": "abc"},
                    "headers": {"Authorization": "Bearer x", "User-Agent": "pytest", "Cookie": "a=b"},
                    "data": {"last_name": "Lee", "notes": f"reach me at {EMAIL}"}, "env": {"REMOTE_ADDR": "1.2.3.4"}},
        "extra": {"email": EMAIL}, "tags": {"search": NAME},
        "user": {"id": "42", "email": EMAIL, "ip_address": "1.2.3.4", "username": "ann"},
    }
    scrubbed = scrub_event(event)
    sent = json.dumps(scrubbed)
    for secret in (EMAIL, "5125550199", "512 555 0199", "Ann+Lee", NAME, "Lee\"", "abc", "Bearer", "1.2.3.4"):
        assert secret not in sent, secret
    assert scrubbed["request"]["query_string"] == "q=[redacted]&limit=[redacted]"
    assert scrubbed["request"]["headers"] == {"User-Agent": "pytest"}
    assert scrubbed["request"]["data"] == {"last_name": "[redacted]", "notes": "reach me at [email]"}
    assert scrubbed["user"] == {"id": "42"}
    assert scrubbed["exception"]["values"][0]["stacktrace"]["frames"] == [{"function": "f"}]
    assert event["message"] == f"mail {EMAIL}"  # the SDK's own event is not changed in place


def test_release_defaults_to_the_version(sentry: list[dict[str, Any]]) -> None:
    init_sentry(Settings(environment="production", secret_key="s" * 40), transport=MemoryTransport)
    sentry_sdk.capture_message(f"hello {EMAIL}")
    sentry_sdk.flush()
    assert sentry[-1]["release"] == f"upswing@{__version__}"
    assert sentry[-1]["environment"] == "production"
    assert EMAIL not in json.dumps(sentry[-1])
