"""Webhook delivery: Standard Webhooks signatures proven with the reference library, each answer classified for the
sender task, and the outbound guard on the saved URL and on the connection (SSRF)."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import orjson
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from upswing.core.errors import ValidationFailedError
from upswing.fakes.server import Fault
from upswing.fakes.webhook_receiver import RECEIVE_ROUTE, FakeWebhookReceiver
from upswing.notify.errors import SendFailed
from upswing.notify.webhooks import USER_AGENT, check_webhook_url, new_secret, send_webhook, sign
from upswing.settings import Settings

SECRET = new_secret()
PAYLOAD = {"type": "alert.created", "data": {"alert_id": "9b2f", "priority": "urgent", "lead": "L-1042"}}
LOOPBACK = Settings(outbound_allow_hosts=["127.0.0.1"], webhook_timeout_seconds=2)
NOBODY = Settings(outbound_allow_hosts=[], outbound_allow_networks=[])
INSIDE = ["http://127.0.0.1/hook", "http://169.254.169.254/latest/meta-data/", "http://[::1]/hook",
          "http://intranet.example/hook"]


@pytest.fixture
def receiver() -> Iterator[FakeWebhookReceiver]:
    fake = FakeWebhookReceiver(SECRET)
    fake.start()
    yield fake
    fake.stop()


# ---- signing


def test_new_secrets_are_random_24_bytes() -> None:
    first, second = new_secret(), new_secret()
    assert first != second and first.startswith("whsec_")
    assert len(base64.b64decode(first.removeprefix("whsec_"))) == 24


def test_our_signature_is_the_reference_librarys() -> None:
    body = orjson.dumps(PAYLOAD)
    now = int(time.time())
    ours = sign(SECRET, "msg_2Lq7", now, body)
    assert ours == Webhook(SECRET).sign("msg_2Lq7", datetime.fromtimestamp(now, UTC), body)
    headers = {"webhook-id": "msg_2Lq7", "webhook-timestamp": str(now), "webhook-signature": ours}
    assert Webhook(SECRET).verify(body, headers) == PAYLOAD
    for tampered in (body.replace(b"urgent", b"low"), body + b" "):
        with pytest.raises(WebhookVerificationError):
            Webhook(SECRET).verify(tampered, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)


# ---- delivery


def test_a_delivery_arrives_signed_and_verified(receiver: FakeWebhookReceiver) -> None:
    result = send_webhook(LOOPBACK, f"{receiver.url}/hooks/crm", SECRET, "msg_1", PAYLOAD)
    assert result.status == 200 and result.response_excerpt == '{"ok":true}' and result.duration_ms > 0
    [delivery] = receiver.received
    assert delivery.verified and delivery.path == "/hooks/crm" and delivery.json() == PAYLOAD
    assert delivery.body == orjson.dumps(PAYLOAD)
    assert delivery.webhook_id == "msg_1"
    assert delivery.headers["content-type"] == "application/json"
    assert delivery.headers["user-agent"] == USER_AGENT
    assert abs(int(delivery.headers["webhook-timestamp"]) - time.time()) < 5


def test_a_repeat_carries_the_same_webhook_id(receiver: FakeWebhookReceiver) -> None:
    for _ in range(2):
        send_webhook(LOOPBACK, receiver.url + "/", SECRET, "msg_same", PAYLOAD)
    assert [d.webhook_id for d in receiver.received] == ["msg_same", "msg_same"]
    assert all(d.verified for d in receiver.received)


def test_a_tampered_body_fails_at_the_receiver(receiver: FakeWebhookReceiver) -> None:
    now = int(time.time())
    headers = {"webhook-id": "msg_t", "webhook-timestamp": str(now),
               "webhook-signature": sign(SECRET, "msg_t", now, orjson.dumps(PAYLOAD)),
               "content-type": "application/json"}
    answer = httpx.post(receiver.url + "/hook", content=orjson.dumps({**PAYLOAD, "type": "forged"}), headers=headers)
    assert answer.status_code == 400
    [delivery] = receiver.received
    assert not delivery.verified and delivery.error == "No matching signature found"


def test_a_receiver_with_another_secret_rejects_and_we_retry(receiver: FakeWebhookReceiver) -> None:
    receiver.set_secret("/rotated", new_secret())
    with pytest.raises(SendFailed) as failed:
        send_webhook(LOOPBACK, receiver.url + "/rotated", SECRET, "msg_r", PAYLOAD)
    assert not failed.value.permanent and failed.value.status == 400
    assert "signature verification failed" in str(failed.value)


def test_a_stale_timestamp_fails_verification(receiver: FakeWebhookReceiver) -> None:
    with pytest.raises(SendFailed):
        send_webhook(LOOPBACK, receiver.url + "/", SECRET, "msg_old", PAYLOAD, timestamp=int(time.time()) - 3600)
    assert receiver.received[0].error == "Message timestamp too old"


@pytest.mark.parametrize(("fault", "permanent", "retry_after"), [
    (Fault.error(410, {"error": "gone"}), True, None),
    (Fault.server_error(500), False, None),
    (Fault.error(503, {"error": "busy"}, {"Retry-After": "30"}), False, 30.0),
    (Fault.rate_limited(retry_after="7"), False, 7.0),
    (Fault.error(404, {"error": "no such hook"}), False, None),
])
def test_each_answer_is_classified(receiver: FakeWebhookReceiver, fault: Fault, permanent: bool,
                                   retry_after: float | None) -> None:
    receiver.inject(RECEIVE_ROUTE, fault)
    with pytest.raises(SendFailed) as failed:
        send_webhook(LOOPBACK, receiver.url + "/hook", SECRET, "msg_f", PAYLOAD)
    assert failed.value.permanent is permanent and failed.value.status == fault.status
    assert failed.value.retry_after == retry_after
    assert f"HTTP {fault.status}" in str(failed.value)


def test_a_redirect_is_a_failure_and_is_not_followed(receiver: FakeWebhookReceiver) -> None:
    receiver.inject(RECEIVE_ROUTE, Fault.error(302, b"", {"Location": f"{receiver.url}/elsewhere"}))
    with pytest.raises(SendFailed, match="redirects are not followed") as failed:
        send_webhook(LOOPBACK, receiver.url + "/hook", SECRET, "msg_302", PAYLOAD)
    assert not failed.value.permanent and [r.path for r in receiver.requests] == ["/hook"]


def test_a_slow_receiver_times_out_as_retryable(receiver: FakeWebhookReceiver) -> None:
    receiver.inject(RECEIVE_ROUTE, Fault.slow(1.0))
    impatient = Settings(outbound_allow_hosts=["127.0.0.1"], webhook_timeout_seconds=0.1)
    with pytest.raises(SendFailed, match=r"timed out after 0\.1 s") as failed:
        send_webhook(impatient, receiver.url + "/hook", SECRET, "msg_slow", PAYLOAD)
    assert not failed.value.permanent


def test_a_refused_connection_is_retryable(closed_port: int) -> None:
    with pytest.raises(SendFailed) as failed:
        send_webhook(LOOPBACK, f"http://127.0.0.1:{closed_port}/hook", SECRET, "msg_x", PAYLOAD)
    assert not failed.value.permanent and failed.value.status is None


# ---- the outbound guard (SSRF)


@pytest.mark.parametrize("url", INSIDE)
def test_saving_an_inside_url_is_refused_naming_the_field(url: str, dns: dict[str, list[str]]) -> None:
    dns["intranet.example"] = ["10.20.0.7"]
    with pytest.raises(ValidationFailedError) as refused:
        check_webhook_url(NOBODY, url)
    [error] = refused.value.errors
    assert error["field"] == "url" and "allow-listed" in str(error["message"])


@pytest.mark.parametrize("url", ["ftp://hooks.example/x", "file:///etc/passwd", "hooks.example/no-scheme"])
def test_only_http_urls_are_saved(url: str) -> None:
    with pytest.raises(ValidationFailedError) as refused:
        check_webhook_url(NOBODY, url)
    assert refused.value.errors[0]["field"] == "url"


def test_public_and_allow_listed_urls_are_saved(dns: dict[str, list[str]]) -> None:
    dns["hooks.example"] = ["93.184.216.34"]
    dns["intranet.example"] = ["10.20.0.7"]
    check_webhook_url(NOBODY, "https://hooks.example/upswing")
    check_webhook_url(NOBODY, "https://not-resolving-yet.example/hook")  # checked again when connected to
    check_webhook_url(Settings(outbound_allow_hosts=["127.0.0.1"]), "http://127.0.0.1:9000/hook")
    check_webhook_url(Settings(outbound_allow_networks=["10.20.0.0/16"]), "http://intranet.example/hook")


@pytest.mark.parametrize("url", INSIDE)
def test_sending_to_an_inside_url_is_refused_permanently(url: str, dns: dict[str, list[str]]) -> None:
    dns["intranet.example"] = ["10.20.0.7"]
    with pytest.raises(SendFailed, match="refused: ") as failed:
        send_webhook(NOBODY, url, SECRET, "msg_ssrf", PAYLOAD)
    assert failed.value.permanent and failed.value.status is None


def test_a_name_resolving_to_a_private_address_is_refused_at_send_time(receiver: FakeWebhookReceiver,
                                                                      dns: dict[str, list[str]]) -> None:
    """Saved while it looked public; by the time of the send the name points inside (DNS rebinding)."""
    dns["hooks.example"] = ["93.184.216.34"]
    check_webhook_url(NOBODY, f"http://hooks.example:{receiver.port}/hook")
    dns["hooks.example"] = ["10.0.0.5"]
    with pytest.raises(SendFailed, match=r"refused: hooks\.example resolves to 10\.0\.0\.5, a private address"):
        send_webhook(NOBODY, f"http://hooks.example:{receiver.port}/hook", SECRET, "msg_dns", PAYLOAD)
    dns["hooks.example"] = ["127.0.0.1"]  # the fake itself, reached under that name: refused on the connection
    with pytest.raises(SendFailed, match="a loopback address") as failed:
        send_webhook(NOBODY, f"http://hooks.example:{receiver.port}/hook", SECRET, "msg_dns", PAYLOAD)
    assert failed.value.permanent and receiver.requests == []


def test_the_receiver_on_loopback_is_reached_only_when_allow_listed(receiver: FakeWebhookReceiver,
                                                                   dns: dict[str, list[str]]) -> None:
    with pytest.raises(SendFailed, match=r"refused: 127\.0\.0\.1 is a loopback address"):
        send_webhook(NOBODY, receiver.url + "/hook", SECRET, "msg_a", PAYLOAD)
    assert receiver.requests == []
    assert send_webhook(LOOPBACK, receiver.url + "/hook", SECRET, "msg_b", PAYLOAD).status == 200
    dns["hooks.internal"] = ["127.0.0.1"]
    by_network = Settings(outbound_allow_networks=["127.0.0.0/8"])
    assert send_webhook(by_network, f"http://hooks.internal:{receiver.port}/hook", SECRET, "msg_c", PAYLOAD).status \
        == 200
    assert [d.webhook_id for d in receiver.received] == ["msg_b", "msg_c"]
    assert receiver.received[1].headers["host"] == f"hooks.internal:{receiver.port}"
