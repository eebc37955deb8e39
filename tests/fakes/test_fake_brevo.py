"""The Brevo fake answers in the documented shapes (reference §4): auth, validation, 201 messageId, rate limits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from upswing.fakes.brevo import SEND_ROUTE, FakeBrevo

KEY = "xkeysib-k"
VALID: dict[str, Any] = {"sender": {"email": "alerts@upswing.example", "name": "Upswing"},
                         "to": [{"email": "dana@team.example"}], "subject": "Hi", "htmlContent": "<p>Hi</p>",
                         "textContent": "Hi", "headers": {"Message-Id": "<m1@upswing.alerts>"}, "tags": ["alert"]}


@pytest.fixture
def brevo() -> Iterator[httpx.Client]:
    fake = FakeBrevo(api_key=KEY, rate_limit_per_s=1000)
    with fake as url, httpx.Client(base_url=url, headers={"api-key": KEY}) as client:
        client.fake = fake  # type: ignore[attr-defined]
        yield client


def fake_of(client: httpx.Client) -> FakeBrevo:
    return client.fake  # type: ignore[attr-defined,no-any-return]


def test_accepts_and_records_a_message(brevo: httpx.Client) -> None:
    answer = brevo.post("/v3/smtp/email", json=VALID)
    assert answer.status_code == 201
    message_id = answer.json()["messageId"]
    assert message_id.startswith("<") and message_id.endswith("@smtp-relay.mailin.fr>")
    assert answer.headers["x-sib-ratelimit-limit"] == "1000"
    assert int(answer.headers["x-sib-ratelimit-remaining"]) < 1000
    [sent] = fake_of(brevo).wait_for(1)
    assert (sent.message_id, sent.subject, sent.html_content, sent.text_content) == (message_id, "Hi", "<p>Hi</p>",
                                                                                      "Hi")
    assert sent.to == [{"email": "dana@team.example"}] and sent.tags == ["alert"]
    assert sent.header_message_id == "<m1@upswing.alerts>" and sent.accepted_at > 0 and not sent.repeat


def test_a_wrong_or_missing_key_is_401() -> None:
    with FakeBrevo(api_key=KEY) as url:
        for headers in ({"api-key": "nope"}, {}):
            answer = httpx.post(f"{url}/v3/smtp/email", json=VALID, headers=headers)
            assert answer.status_code == 401
            assert answer.json() == {"code": "unauthorized", "message": "Key not found"}


@pytest.mark.parametrize(("change", "code", "message"), [
    ({"sender": None}, "missing_parameter", "sender is missing"),
    ({"to": []}, "missing_parameter", "to is missing"),
    ({"to": [{"email": "not-an-address"}]}, "invalid_parameter", "email is not valid in to"),
    ({"subject": ""}, "missing_parameter", "subject is missing"),
    ({"htmlContent": None, "textContent": None}, "missing_parameter", "htmlContent is missing"),
    ({"tags": "alert"}, "invalid_parameter", "tags must be a list of strings"),
])
def test_missing_and_invalid_fields_are_400_naming_them(brevo: httpx.Client, change: dict[str, Any], code: str,
                                                        message: str) -> None:
    body = {key: value for key, value in {**VALID, **change}.items() if value is not None}
    answer = brevo.post("/v3/smtp/email", json=body)
    assert answer.status_code == 400 and answer.json() == {"code": code, "message": message}
    assert fake_of(brevo).messages == []


def test_a_body_that_is_not_an_object_is_400(brevo: httpx.Client) -> None:
    answer = brevo.post("/v3/smtp/email", content=b"[1, 2", headers={"content-type": "application/json"})
    assert answer.status_code == 400 and answer.json()["code"] == "bad_request"


def test_a_repeated_idempotency_key_gets_the_same_message_id(brevo: httpx.Client) -> None:
    body = {**VALID, "headers": {"Message-Id": "<m2@upswing.alerts>", "idempotencyKey": "<m2@upswing.alerts>"}}
    first = brevo.post("/v3/smtp/email", json=body).json()["messageId"]
    again = brevo.post("/v3/smtp/email", json={**body, "headers": {"IdempotencyKey": "<m2@upswing.alerts>"}})
    assert again.json()["messageId"] == first
    assert [m.repeat for m in fake_of(brevo).messages] == [False, True]


def test_over_the_per_second_limit_is_429_with_the_limit_headers() -> None:
    # Three requests in a few milliseconds: at most one window boundary falls between them, so one is over.
    with FakeBrevo(api_key=KEY, rate_limit_per_s=1) as url, httpx.Client(headers={"api-key": KEY}) as client:
        answers = [client.post(f"{url}/v3/smtp/email", json=VALID) for _ in range(3)]
    limited = [a for a in answers if a.status_code == 429]
    assert limited and all(a.status_code in (201, 429) for a in answers)
    assert limited[0].json()["code"] == "too_many_requests"
    assert limited[0].headers["x-sib-ratelimit-remaining"] == "0"
    assert int(limited[0].headers["x-sib-ratelimit-reset"]) >= 1


def test_an_injected_rate_limit_carries_brevos_headers(brevo: httpx.Client) -> None:
    fake_of(brevo).inject(SEND_ROUTE, FakeBrevo.rate_limited(reset_s=12, retry_after="3"))
    answer = brevo.post("/v3/smtp/email", json=VALID)
    assert answer.status_code == 429 and answer.headers["retry-after"] == "3"
    assert answer.headers["x-sib-ratelimit-reset"] == "12" and answer.headers["x-sib-ratelimit-remaining"] == "0"
    assert brevo.post("/v3/smtp/email", json=VALID).status_code == 201  # only once
