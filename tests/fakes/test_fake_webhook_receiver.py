"""The webhook receiver fake verifies with the standardwebhooks reference library, per path, and records
every delivery that reaches it; injected faults answer before it."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from standardwebhooks.webhooks import Webhook

from upswing.fakes.server import Fault
from upswing.fakes.webhook_receiver import RECEIVE_ROUTE, FakeWebhookReceiver

SECRET_A = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SECRET_B = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"


def signed(secret: str, body: bytes, msg_id: str = "msg_1") -> dict[str, str]:
    now = datetime.now(UTC)
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(secret).sign(msg_id, now, body), "content-type": "application/json"}


def test_verifies_per_path_and_records_both_outcomes() -> None:
    fake = FakeWebhookReceiver(SECRET_A, secrets={"/b": SECRET_B})
    body = b'{"type":"ping"}'
    with fake as url:
        assert httpx.post(f"{url}/a", content=body, headers=signed(SECRET_A, body)).status_code == 200
        assert httpx.post(f"{url}/b", content=body, headers=signed(SECRET_B, body)).status_code == 200
        wrong = httpx.post(f"{url}/b", content=body, headers=signed(SECRET_A, body, "msg_2"))
        unsigned = httpx.post(f"{url}/a", content=body)
    assert wrong.status_code == 400 and "signature verification failed" in wrong.json()["error"]
    assert unsigned.status_code == 400
    assert [(r.path, r.verified) for r in fake.received] == [("/a", True), ("/b", True), ("/b", False),
                                                              ("/a", False)]
    assert fake.received[0].json() == {"type": "ping"} and fake.received[2].webhook_id == "msg_2"
    assert fake.received[3].error == "Missing required headers"


def test_no_secret_means_nothing_verifies() -> None:
    body = b"{}"
    with FakeWebhookReceiver() as url:
        answer = httpx.post(f"{url}/x", content=body, headers=signed(SECRET_A, body))
    assert answer.status_code == 400 and "no secret configured for /x" in answer.json()["error"]


def test_faults_answer_before_the_receiver() -> None:
    fake = FakeWebhookReceiver(SECRET_A)
    body = b"{}"
    with fake as url:
        fake.inject(RECEIVE_ROUTE, Fault.error(410, {"error": "gone"}))
        assert httpx.post(f"{url}/x", content=body, headers=signed(SECRET_A, body)).status_code == 410
        assert httpx.post(f"{url}/x", content=body, headers=signed(SECRET_A, body)).status_code == 200
        assert len(fake.wait_for(1, timeout_s=1)) == 1
    assert len(fake.requests) == 2 and len(fake.received) == 1
