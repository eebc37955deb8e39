"""A message's own header fields (``List-Unsubscribe`` …) and text-only messages, through both transports: Brevo
puts the headers in the body's ``headers`` next to Message-Id, SMTP writes them as real header fields; a header
that could smuggle in another is refused for good, before anything is sent."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest

from upswing.fakes.brevo import SEND_ROUTE, FakeBrevo
from upswing.fakes.smtp import FakeSmtp
from upswing.notify.email import BrevoTransport, EmailMessage, SendFailed, SmtpTransport, message_id_for

KEY = "xkeysib-headers"
UNSUBSCRIBE = (("List-Unsubscribe", "<https://upswing.example/api/v1/digest/unsubscribe?token=abc_-123>"),
               ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))


def message(**changes: object) -> EmailMessage:
    fields: dict[str, object] = {
        "to": "dana@team.example", "to_name": "Dana Scully", "subject": "3 urgent, 5 high — Upswing digest",
        "html": "<p>Digest</p>", "text": "Digest", "message_id": message_id_for("digest-1"), "tags": ("digest",),
        "headers": UNSUBSCRIBE}
    fields.update(changes)
    return EmailMessage(**fields)  # type: ignore[arg-type]


@pytest.fixture
def brevo() -> Iterator[tuple[FakeBrevo, BrevoTransport]]:
    fake = FakeBrevo(api_key=KEY)
    with fake as url, BrevoTransport(api_key=KEY, base_url=url, sender_email="digest@upswing.example") as transport:
        yield fake, transport


def smtp_transport(smtp: FakeSmtp) -> SmtpTransport:
    return SmtpTransport(host=smtp.host, port=smtp.port, sender_email="digest@upswing.example", starttls=False,
                         timeout_s=5.0)


def test_brevo_sends_the_headers_next_to_its_own(brevo: tuple[FakeBrevo, BrevoTransport]) -> None:
    fake, transport = brevo
    transport.send(message())
    [request] = fake.requests_to(SEND_ROUTE)
    assert orjson.loads(request.body)["headers"] == {
        "Message-Id": "<digest-1@upswing.alerts>", "idempotencyKey": "<digest-1@upswing.alerts>",
        "List-Unsubscribe": "<https://upswing.example/api/v1/digest/unsubscribe?token=abc_-123>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    [sent] = fake.messages
    assert sent.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert sent.header_message_id == "<digest-1@upswing.alerts>"


def test_brevo_gets_a_text_only_message_as_text_and_escaped_html(brevo: tuple[FakeBrevo, BrevoTransport]) -> None:
    fake, transport = brevo
    text = "3 urgent <signals> & 5 high\n  L-1042  Registered Nurse at Acme"
    transport.send(message(html=None, text=text))
    body = orjson.loads(fake.requests_to(SEND_ROUTE)[0].body)
    assert body["textContent"] == text
    html = body["htmlContent"]  # Brevo requires htmlContent
    assert "<pre" in html and "3 urgent &lt;signals&gt; &amp; 5 high\n  L-1042" in html and "<signals>" not in html


@pytest.mark.parametrize(("headers", "complaint"), [
    ((("List-Unsubscribe", "<https://x.example/u>\r\nBcc: everyone@example.com"),), "line break"),
    ((("X-Note", "one\nInjected: yes"),), "line break"),
    ((("X-Bad\r\nBcc", "x"),), "not a header field name"),
    ((("X Bad", "x"),), "not a header field name"),
    ((("Message-ID", "<other@example.com>"),), "written by the transport"),
    ((("bcc", "everyone@example.com"),), "written by the transport"),
])
def test_a_header_that_could_smuggle_another_fails_for_good_and_nothing_is_sent(
        brevo: tuple[FakeBrevo, BrevoTransport], headers: tuple[tuple[str, str], ...], complaint: str) -> None:
    fake, transport = brevo
    with pytest.raises(SendFailed, match=complaint) as raised:
        transport.send(message(headers=headers))
    assert raised.value.permanent
    assert fake.requests_to(SEND_ROUTE) == []
    with FakeSmtp() as smtp:
        with pytest.raises(SendFailed, match=complaint) as by_smtp:
            smtp_transport(smtp).send(message(headers=headers))
        assert by_smtp.value.permanent and smtp.messages == []


def test_smtp_writes_the_headers_as_header_fields() -> None:
    with FakeSmtp() as smtp:
        smtp_transport(smtp).send(message())
        [received] = smtp.messages
    mail = received.message
    # A long value is folded onto its own line (RFC 5322 §2.2.3): the same value once unfolded.
    assert mail["List-Unsubscribe"].strip() == "<https://upswing.example/api/v1/digest/unsubscribe?token=abc_-123>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail["Message-ID"] == "<digest-1@upswing.alerts>"
    assert mail.get_content_type() == "multipart/alternative"


def test_smtp_sends_a_text_only_message_as_text_plain_alone() -> None:
    with FakeSmtp() as smtp:
        smtp_transport(smtp).send(message(html=None, text="Nothing new today — Upswing"))
        [received] = smtp.messages
    mail = received.message
    assert mail.get_content_type() == "text/plain" and not mail.is_multipart()
    assert mail.get_content().strip() == "Nothing new today — Upswing"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
