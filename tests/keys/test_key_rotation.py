"""Migration 0007 encrypts the leads already there; ``upswing keys`` rotates, reports and generates keys."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from conftest import POSTGRES_ADMIN_URL
from upswing.core import migrate
from upswing.core.crypto import PREFIX, KeyRing, get_key_ring, new_key_spec
from upswing.core.db import make_engine, session_factory, transaction
from upswing.keys import service as key_rotation
from upswing.lead.models import Lead
from upswing.lead.pii import email_index, phone_index
from upswing.settings import get_settings

LEADS_CSV = ("external_id,first_name,last_name,email,phone,address,state\n"
             "K-1,Ada,Lovelace,ada@example.org,4103598819,12 Engine Way,MD\n"
             "K-2,Alan,Turing,alan@example.org,,,\n"
             "K-3,Grace,Hopper,,,,\n")


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_migration_encrypts_existing_leads_and_downgrade_restores_them(
        kind: str, fresh_database_url: Callable[[str], str]) -> None:
    if kind == "postgresql" and POSTGRES_ADMIN_URL is None:
        pytest.skip("PostgreSQL not reachable and UPSWING_TEST_POSTGRES_URL not set")
    engine = make_engine(fresh_database_url(kind))
    migrate.upgrade(engine, "0006")
    lead_id, portfolio_id = uuid.uuid4(), uuid.uuid4()
    key = (lambda u: u.hex) if kind == "sqlite" else (lambda u: u)
    with engine.begin() as connection:  # a lead as 0006 stored it: in clear
        connection.execute(text("INSERT INTO portfolios (id, name, created_at) VALUES (:id, 'old', :at)"),
                           {"id": key(portfolio_id), "at": "2026-01-01 00:00:00"})
        connection.execute(text(
            "INSERT INTO leads (id, portfolio_id, external_id, first_name, last_name, email, emails, phone, phones, "
            "address, status, created_at, updated_at) VALUES (:id, :p, 'O-1', 'Ada', 'Lovelace', 'ada@example.org', "
            ":emails, '+14103598819', :phones, '12 Engine Way', 'new', :at, :at)"),
            {"id": key(lead_id), "p": key(portfolio_id), "emails": '["ada@example.org", "ada@old.example.org"]',
             "phones": '[{"number": "+14103598819", "type": "cell"}]', "at": "2026-01-01 00:00:00"})

    migrate.upgrade(engine)
    with engine.connect() as connection:
        raw = connection.execute(text("SELECT email, emails, phone, phones, address, email_bidx, phone_bidx "
                                      "FROM leads")).one()
    assert all(str(value).startswith(PREFIX) for value in raw[:5])
    assert raw.email_bidx == email_index("ada@example.org") and raw.phone_bidx == phone_index("+14103598819")
    with session_factory(engine)() as session:
        lead = session.get(Lead, lead_id)
        assert lead is not None
        assert (lead.email, lead.emails, lead.phone, lead.address) == (
            "ada@example.org", ["ada@example.org", "ada@old.example.org"], "+14103598819", "12 Engine Way")
        assert email_index("ada@old.example.org") in lead.contact_bidx

    migrate.downgrade(engine, "0006")
    with engine.connect() as connection:
        back = connection.execute(text("SELECT email, emails, phone, address FROM leads")).one()
    assert back.email == "ada@example.org" and back.phone == "+14103598819" and back.address == "12 Engine Way"
    emails = back.emails if isinstance(back.emails, list) else json.loads(back.emails)
    assert emails == ["ada@example.org", "ada@old.example.org"]
    engine.dispose()


def _use_keys(monkeypatch: pytest.MonkeyPatch, spec: str) -> None:
    monkeypatch.setenv("UPSWING_ENCRYPTION_KEYS", spec)
    get_settings.cache_clear()


def _status(cli: Callable[..., Any]) -> dict[str, Any]:
    result = cli("keys", "status", "--json")
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def test_rotation_moves_every_value_to_the_new_key(cli: Callable[..., Any], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = new_key_spec("k1"), new_key_spec("k2")
    _use_keys(monkeypatch, old)
    assert cli("db", "upgrade").exit_code == 0
    (tmp_path / "leads.csv").write_text(LEADS_CSV)
    assert cli("leads", "import", str(tmp_path / "leads.csv")).exit_code == 0
    before = _status(cli)
    # K-1: 5 values (e-mail, e-mails, phone, phones, address); K-2: e-mail and e-mails; K-3 none (empty lists).
    assert before["values_per_key"] == {"k1": 7} and before["old_values"] == 0
    assert before["columns"]["leads.emails"] == {"k1": 2}

    _use_keys(monkeypatch, f"{new},{old}")  # the new key first, the old one still there to read
    assert _status(cli)["old_values"] == 7
    rotated = cli("keys", "rotate", "--batch-size", "1")
    assert rotated.exit_code == 0, rotated.output
    assert "Re-encrypted 7 value(s) with key k2" in rotated.output
    after = _status(cli)
    assert after["values_per_key"] == {"k2": 7} and after["old_values"] == 0

    _use_keys(monkeypatch, new)  # the old key dropped: everything still reads
    with transaction() as session:
        lead = session.scalars(select(Lead).where(Lead.external_id == "K-1")).one()
        assert (lead.email, lead.phone, lead.address) == ("ada@example.org", "+14103598819", "12 Engine Way")
        assert lead.email_bidx == email_index("ada@example.org")  # blind indexes do not depend on the key
        from upswing.audit.models import AuditEntry

        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "keys.rotate")).one()
        assert entry.entity_id == "k2" and entry.details["rewritten"]["leads.email"] == 2


def test_rotation_is_resumable_and_reports_values_it_cannot_open(cli: Callable[..., Any], tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = new_key_spec("k1"), new_key_spec("k2")
    _use_keys(monkeypatch, old)
    assert cli("db", "upgrade").exit_code == 0
    (tmp_path / "leads.csv").write_text(LEADS_CSV)
    assert cli("leads", "import", str(tmp_path / "leads.csv")).exit_code == 0

    _use_keys(monkeypatch, f"{new},{old}")
    ring = get_key_ring()
    with transaction() as session:  # a rotation stopped after one batch of two values
        location = next(loc for loc in key_rotation.locations(session) if loc.name == "leads.email")
        first = key_rotation.rotate_batch(session, location, ring, size=1)
        assert first.rewritten == 1
    status = _status(cli)
    assert status["columns"]["leads.email"] == {"k1": 1, "k2": 1} and status["old_values"] == 6

    stray = KeyRing(keys={"k0": bytes(32)}, active_id="k0", index_key=ring.index_key).encrypt(
        "12 Lost Key Rd", context="leads.address")
    with transaction() as session:  # a value under a key nobody has any more
        session.execute(text("UPDATE leads SET address = :a WHERE external_id = 'K-2'"), {"a": stray})
    result = cli("keys", "rotate")
    assert result.exit_code == 1
    assert "leads.address: 1 value(s) no key in the ring opens" in result.output
    assert "add the key they were written with" in result.output
    status = _status(cli)
    assert status["values_per_key"] == {"k2": 7, "k0": 1} and status["unknown_keys"] == ["k0"]


def test_generate_prints_a_usable_key(cli: Callable[..., Any]) -> None:
    assert cli("db", "upgrade").exit_code == 0
    result = cli("keys", "generate", "--id", "k7")
    assert result.exit_code == 0, result.output
    spec = result.stdout.strip()
    kid, _, encoded = spec.partition(":")
    assert kid == "k7" and len(base64.b64decode(encoded)) == 32
    assert "Put it first: UPSWING_ENCRYPTION_KEYS=k7:" in result.output
    index_key = cli("keys", "generate", "--blind-index").stdout.strip()
    assert len(base64.b64decode(index_key)) == 32
    assert cli("keys", "generate", "--id", "a:b").exit_code == 1


def test_rotation_also_reencrypts_values_other_domains_seal_themselves(db_session: Any) -> None:
    from upswing.source.models import Source

    old = KeyRing(keys={"k1": bytes(range(32))}, active_id="k1", index_key=bytes(32))
    both = KeyRing(keys={"k2": bytes(range(1, 33)), "k1": old.keys["k1"]}, active_id="k2", index_key=bytes(32))
    source = Source(slug="rotating-source", connector="apify", name="Rotating",
                    secrets=old.encrypt_json({"token": "apify_api_secret"}, context="source:rotating-source"))
    db_session.add(source)
    db_session.flush()
    location = next(loc for loc in key_rotation.locations(db_session) if loc.name == "sources.secrets")
    assert location.needs == ("slug",)  # the context is the source's own: "source:<slug>"
    while key_rotation.rotate_batch(db_session, location, both, size=10).last_key is not None:
        pass
    db_session.expire_all()
    stored = db_session.get(Source, source.id).secrets
    assert both.key_id_of(stored) == "k2"
    assert both.decrypt_json(stored, context="source:rotating-source") == {"token": "apify_api_secret"}
