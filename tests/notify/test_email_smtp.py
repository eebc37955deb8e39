"""The SMTP transport against a real SMTP server on loopback (aiosmtpd): a multipart/alternative message with our
Message-ID, STARTTLS with a verified certificate and login, and each failure classified by its reply code."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from upswing.fakes.smtp import FakeSmtp
from upswing.notify.email import EmailMessage, SendFailed, SmtpTransport, email_transport, message_id_for
from upswing.settings import Settings

HTML = "<html><body><p style=\"color: #c81e1e\">New job: Acme Health</p></body></html>"


def message(to: str = "dana@team.example") -> EmailMessage:
    return EmailMessage(to=to, to_name="Dana Scully", subject="[Urgent] New job: Acme Health — L-1042",
                        html=HTML, text="New job: Acme Health", message_id=message_id_for("delivery-7"),
                        tags=("alert",))


def plain(smtp: FakeSmtp, **kwargs: object) -> SmtpTransport:
    options: dict[str, object] = {"host": smtp.host, "port": smtp.port, "sender_email": "alerts@upswing.example",
                                  "sender_name": "Upswing", "starttls": False, "timeout_s": 5.0}
    options.update(kwargs)
    return SmtpTransport(**options)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (cert.pem, key.pem): its own CA, as a private relay's would be."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "upswing test relay")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def tls_smtp(certificate: tuple[Path, Path]) -> Iterator[FakeSmtp]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    with FakeSmtp(tls_context=context, users={"relay-user": "relay-pass"}) as smtp:
        yield smtp


def test_the_message_is_multipart_alternative_with_our_message_id() -> None:
    with FakeSmtp() as smtp:
        result = plain(smtp).send(message())
        [received] = smtp.messages
    assert result.provider_id == "<delivery-7@upswing.alerts>"
    assert received.mail_from == "alerts@upswing.example" and received.rcpt_tos == ["dana@team.example"]
    mail = received.message
    assert mail["Message-ID"] == "<delivery-7@upswing.alerts>"
    assert mail["From"] == "Upswing <alerts@upswing.example>" and mail["To"] == "Dana Scully <dana@team.example>"
    assert mail["Subject"] == "[Urgent] New job: Acme Health — L-1042"  # non-ASCII subject survives encoding
    assert mail["X-Upswing-Tags"] == "alert" and mail["Date"]
    assert mail.get_content_type() == "multipart/alternative"
    parts = {part.get_content_type(): part.get_content().strip() for part in mail.iter_parts()}
    assert parts == {"text/plain": "New job: Acme Health", "text/html": HTML}
    assert not received.tls and received.login is None


def test_starttls_with_a_verified_certificate_and_login(tls_smtp: FakeSmtp, certificate: tuple[Path, Path]) -> None:
    settings = Settings(email_transport="smtp", smtp_host="127.0.0.1", smtp_port=tls_smtp.port,
                        smtp_ca_file=certificate[0], smtp_username="relay-user", smtp_password="relay-pass",
                        email_from="alerts@upswing.example")
    email_transport(settings).send(message())
    [received] = tls_smtp.messages
    assert received.tls and received.login == "relay-user"
    assert received.message["Message-ID"] == "<delivery-7@upswing.alerts>"


def test_an_untrusted_certificate_is_permanent(tls_smtp: FakeSmtp) -> None:
    """The system trust store does not know the relay's self-signed CA: no fallback to an unverified session."""
    with pytest.raises(SendFailed, match="not trusted") as failed:
        plain(tls_smtp, starttls=True, username="relay-user", password="relay-pass").send(message())
    assert failed.value.permanent and tls_smtp.messages == []


def test_skipping_starttls_where_the_relay_requires_it_is_permanent(tls_smtp: FakeSmtp) -> None:
    with pytest.raises(SendFailed) as failed:
        plain(tls_smtp).send(message())
    assert failed.value.permanent and failed.value.status == 530 and tls_smtp.messages == []


def test_a_wrong_password_is_permanent(tls_smtp: FakeSmtp, certificate: tuple[Path, Path]) -> None:
    trusting = ssl.create_default_context(cafile=str(certificate[0]))
    with pytest.raises(SendFailed, match="login refused") as failed:
        plain(tls_smtp, starttls=True, ssl_context=trusting, username="relay-user", password="nope").send(message())
    assert failed.value.permanent and failed.value.status == 535 and tls_smtp.messages == []


@pytest.mark.parametrize(("code", "permanent"), [(550, True), (450, False)])
def test_a_refused_recipient_is_classified_by_its_code(code: int, permanent: bool) -> None:
    with FakeSmtp() as smtp:
        smtp.refuse_recipient("gone@team.example", code, "mailbox unavailable")
        with pytest.raises(SendFailed, match="recipient refused") as failed:
            plain(smtp).send(message("gone@team.example"))
        assert smtp.messages == []
    assert failed.value.permanent is permanent and failed.value.status == code


def test_a_refused_connection_is_retryable(closed_port: int) -> None:
    transport = SmtpTransport(host="127.0.0.1", port=closed_port, sender_email="alerts@upswing.example",
                              timeout_s=2.0)
    with pytest.raises(SendFailed) as failed:
        transport.send(message())
    assert not failed.value.permanent and "ConnectionRefusedError" in str(failed.value)
