"""The Brevo transport against the fake (reference §4): what it sends, and how each failure is classified for
the sender task (permanent, or retryable with the wait Brevo asked for)."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest

from upswing.fakes.brevo import SEND_ROUTE, FakeBrevo
from upswing.fakes.server import Fault
from upswing.notify.email import (
    NOT_CONFIGURED,
    BrevoTransport,
    EmailMessage,
    SendFailed,
    SmtpTransport,
    email_transport,
    message_id_for,
)
from upswing.settings import Settings

KEY = "xkeysib-right-key"


def message(**changes: object) -> EmailMessage:
    fields: dict[str, object] = {
        "to": "dana@team.example", "to_name": "Dana Scully", "subject": "[Urgent] New job: Acme Health",
        "html": "<p>New job</p>", "text": "New job", "message_id": message_id_for("3f2c9a1e"),
        "tags": ("alert", "urgent")}
    fields.update(changes)
    return EmailMessage(**fields)  # type: ignore[arg-type]


@pytest.fixture
def brevo() -> Iterator[FakeBrevo]:
    fake = FakeBrevo(api_key=KEY)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def transport(brevo: FakeBrevo) -> Iterator[BrevoTransport]:
    settings = Settings(email_transport="brevo", brevo_api_key=KEY, brevo_base_url=brevo.url,
                        email_from="alerts@upswing.example", email_from_name="Upswing Alerts")
    chosen = email_transport(settings)
    assert isinstance(chosen, BrevoTransport)
    yield chosen
    chosen.close()


def test_a_send_reaches_brevo_with_the_documented_headers_and_body(brevo: FakeBrevo,
                                                                   transport: BrevoTransport) -> None:
    result = transport.send(message())
    [request] = brevo.requests_to(SEND_ROUTE)
    assert request.headers["api-key"] == KEY
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept"] == "application/json"
    assert orjson.loads(request.body) == {
        "sender": {"email": "alerts@upswing.example", "name": "Upswing Alerts"},
        "to": [{"email": "dana@team.example", "name": "Dana Scully"}],
        "subject": "[Urgent] New job: Acme Health",
        "htmlContent": "<p>New job</p>",
        "textContent": "New job",
        "tags": ["alert", "urgent"],
        "headers": {"Message-Id": "<3f2c9a1e@upswing.alerts>", "idempotencyKey": "<3f2c9a1e@upswing.alerts>"},
    }
    [sent] = brevo.messages
    assert result.provider_id == sent.message_id and sent.message_id.endswith("@smtp-relay.mailin.fr>")
    assert sent.header_message_id == "<3f2c9a1e@upswing.alerts>"


def test_a_repeat_after_a_crash_carries_the_same_ids(brevo: FakeBrevo, transport: BrevoTransport) -> None:
    first = transport.send(message())
    again = transport.send(message())
    assert again.provider_id == first.provider_id
    assert [(m.header_message_id, m.repeat) for m in brevo.messages] == [
        ("<3f2c9a1e@upswing.alerts>", False), ("<3f2c9a1e@upswing.alerts>", True)]


def test_a_wrong_key_is_permanent_and_says_why(brevo: FakeBrevo) -> None:
    with BrevoTransport(api_key="xkeysib-wrong", base_url=brevo.url, sender_email="a@upswing.example") as wrong, \
            pytest.raises(SendFailed) as failed:
        wrong.send(message())
    assert failed.value.permanent and failed.value.status == 401 and failed.value.retry_after is None
    assert "unauthorized: Key not found" in str(failed.value) and "xkeysib" not in str(failed.value)
    assert brevo.messages == []


def test_a_rejected_field_is_permanent_and_named(brevo: FakeBrevo, transport: BrevoTransport) -> None:
    with pytest.raises(SendFailed) as failed:
        transport.send(message(subject=""))
    assert failed.value.permanent and failed.value.status == 400
    assert "missing_parameter: subject is missing" in str(failed.value)


@pytest.mark.parametrize(("fault", "wait"), [
    (FakeBrevo.rate_limited(reset_s=40, retry_after="3"), 3.0),  # Retry-After wins
    (FakeBrevo.rate_limited(reset_s=40), 40.0),  # Brevo's documented x-sib-ratelimit-reset
])
def test_rate_limited_is_retryable_with_the_wait_asked_for(brevo: FakeBrevo, transport: BrevoTransport,
                                                           fault: Fault, wait: float) -> None:
    brevo.inject(SEND_ROUTE, fault)
    with pytest.raises(SendFailed) as failed:
        transport.send(message())
    assert not failed.value.permanent and failed.value.status == 429 and failed.value.retry_after == wait
    assert transport.send(message()).provider_id  # the next attempt goes through: no state left behind


def test_server_errors_are_retryable(brevo: FakeBrevo, transport: BrevoTransport) -> None:
    brevo.inject(SEND_ROUTE, Fault.server_error(502))
    with pytest.raises(SendFailed) as failed:
        transport.send(message())
    assert not failed.value.permanent and failed.value.status == 502 and failed.value.retry_after is None
    assert brevo.messages == []


def test_a_slow_answer_is_abandoned_as_retryable(brevo: FakeBrevo) -> None:
    brevo.inject(SEND_ROUTE, Fault.slow(1.0))
    with BrevoTransport(api_key=KEY, base_url=brevo.url, sender_email="a@upswing.example",
                        timeout_s=0.1) as impatient, pytest.raises(SendFailed, match="timed out") as failed:
        impatient.send(message())
    assert not failed.value.permanent


def test_a_refused_connection_is_retryable(closed_port: int) -> None:
    with BrevoTransport(api_key=KEY, base_url=f"http://127.0.0.1:{closed_port}",
                        sender_email="a@upswing.example") as dead, pytest.raises(SendFailed) as failed:
        dead.send(message())
    assert not failed.value.permanent and failed.value.status is None


def test_the_transport_follows_the_settings() -> None:
    with pytest.raises(SendFailed) as failed:
        email_transport(Settings()).send(message())  # the default: none, and it says so
    assert failed.value.permanent and str(failed.value) == NOT_CONFIGURED
    no_key = email_transport(Settings(email_transport="brevo"))
    with pytest.raises(SendFailed, match="UPSWING_BREVO_API_KEY") as failed:
        no_key.send(message())
    assert failed.value.permanent and no_key.name == "brevo"
    smtp = email_transport(Settings(email_transport="smtp", smtp_host="mail.example", smtp_port=2525))
    assert isinstance(smtp, SmtpTransport) and (smtp.host, smtp.port, smtp.starttls) == ("mail.example", 2525, True)
    no_ca = email_transport(Settings(email_transport="smtp", smtp_ca_file="/nonexistent/ca.pem"))
    with pytest.raises(SendFailed, match="UPSWING_SMTP_CA_FILE") as failed:
        no_ca.send(message())
    assert failed.value.permanent


@pytest.mark.parametrize("message_id", ["3f2c@upswing.alerts", "<no-at-sign>", "<a@b>\r\nBcc: x@y.example"])
def test_a_message_id_must_be_a_real_one(message_id: str) -> None:
    with pytest.raises(ValueError, match="message_id"):
        message(message_id=message_id)


@pytest.mark.parametrize("to", ["a@b.example, c@d.example", "nobody", "a@b.example\r\nBcc: x@y.example", "@b.example"])
def test_an_address_that_is_not_one_recipient_fails_for_good(brevo: FakeBrevo, transport: BrevoTransport,
                                                              to: str) -> None:
    smtp = SmtpTransport(host="127.0.0.1", port=1, sender_email="alerts@upswing.example")  # never connected
    for sender in (transport, smtp):
        with pytest.raises(SendFailed, match="not a single e-mail address") as failed:
            sender.send(message(to=to))
        assert failed.value.permanent
    assert brevo.requests == []
