"""Must show: a DSAR export followed by erasure leaves no trace of the person's PII in any table (every text and
JSON column of every table is scanned, on SQLite and PostgreSQL), and the person is never collected again."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factories import make_review_match, make_user
from privacy.helpers import profile
from privacy.pii_scan import find_pii
from upswing.account.models import Role
from upswing.audit.models import AuditEntry
from upswing.audit.service import verify_chain
from upswing.compliance import service as compliance
from upswing.compliance.schemas import ContactCreate
from upswing.dedupe.service import merge_leads
from upswing.lead import service as leads
from upswing.lead.models import Lead, LeadStatus
from upswing.lead.schemas import LeadUpdate
from upswing.observation.models import Observation
from upswing.pipeline.profiles import ProfileIngest
from upswing.privacy import service, tombstones
from upswing.privacy.models import DataSubjectRequest, ErasureTombstone, RequestStatus, RequestType
from upswing.signal import service as signals
from upswing.signal.models import Evidence, Signal, SignalAction
from upswing.source.service import file_source

NAME, SURNAME = "Zephyrine", "Quillfeather"
EMAIL, PHONE, PUBLIC_ID = "zephyrine.q@example.net", "(512) 555-0199", "zephyrine-quillfeather-77"
ADDRESS = "12 Larkspur Lane"
NEEDLES = [NAME, SURNAME, EMAIL, "5125550199", PUBLIC_ID, ADDRESS]
SEPT, OCT = datetime(2026, 9, 1, 6, tzinfo=UTC), datetime(2026, 10, 1, 6, tzinfo=UTC)


def _row(external_id: str, first: str, last: str, email: str, public_id: str, **extra: str) -> dict[str, str]:
    return {"external_id": external_id, "first_name": first, "last_name": last, "email": email,
            "linkedin_url": f"https://www.linkedin.com/in/{public_id}", "city": "Austin", "state": "TX", **extra}


def ingest(session: Session, items: list[dict[str, Any]], observed_at: datetime) -> Any:
    run = ProfileIngest(session, file_source(session), observed_at=observed_at)
    report = run.ingest(enumerate(items, start=1))
    run.record_audit(actor="test", file=None)
    session.flush()
    return report


def build_person(session: Session) -> tuple[Lead, Lead]:
    """The person (two leads, one a merged duplicate) with everything Upswing can hold, and a bystander."""
    agent = make_user(session, Role.AGENT)
    rows = [_row("DSAR-1", NAME, SURNAME, EMAIL, PUBLIC_ID, phone=PHONE, phone_type="cell", address=ADDRESS),
            _row("DSAR-2", NAME, SURNAME, EMAIL, PUBLIC_ID + "-dup"),
            _row("KEEP-1", "Ottoline", "Brackenbury", "ottoline@example.org", "ottoline-b")]
    leads.import_leads(session, rows, actor="test", portfolio_name="book")
    person = session.scalars(select(Lead).where(Lead.external_id == "DSAR-1")).one()
    duplicate = session.scalars(select(Lead).where(Lead.external_id == "DSAR-2")).one()
    bystander = session.scalars(select(Lead).where(Lead.external_id == "KEEP-1")).one()
    person.assignee_id = agent.id
    merge_leads(session, survivor_id=person.id, merged_id=duplicate.id, actor="test")

    old_job = [("Cashier", "Target", "May 2022")]
    new_job = [("Cashier", "Target", "May 2022"), ("Bookkeeper", "Ledger & Co", "Sep 2026")]
    ingest(session, [profile(PUBLIC_ID, NAME, SURNAME, old_job, [EMAIL]),
                     profile("ottoline-b", "Ottoline", "Brackenbury", old_job)], SEPT)
    ingest(session, [profile(PUBLIC_ID, NAME, SURNAME, new_job, [EMAIL])], OCT)
    signal_id = session.scalars(select(Signal.id).where(Signal.lead_id == person.id)).one()
    signals.acknowledge(session, signal_id, user=agent)
    signals.record_action(session, signal_id, SignalAction.CALL, user=agent, note="left a voicemail")
    leads.update_lead(session, person.id, LeadUpdate(status=LeadStatus.CONTACTED), user=agent)
    make_review_match(session, person, subject_key="li:zq-maybe")  # a candidate profile in review for them
    # The contact ledger (compliance domain): found through its lead foreign key like any lead-owned table.
    compliance.log_contact(session, ContactCreate(lead_id=person.id, channel="call", at=OCT, target=PHONE,
                                                  conversation=True, note="agreed a plan"), actor="test",
                           source="api")
    text = Observation(source_id=file_source(session).id, lead_id=None, kind="text",
                       raw={"text": f"Write to {EMAIL} about the invoice"}, normalized={"text": "invoice"},
                       content_hash="t" * 64, observed_at=OCT, last_observed_at=OCT)
    session.add(text)
    session.flush()
    return person, bystander


def test_export_then_erasure_leaves_no_pii_anywhere(db_session: Session) -> None:
    person, bystander = build_person(db_session)
    assert {table for table, _, _ in find_pii(db_session, NEEDLES)} >= {"leads", "observations"}

    access = service.create_request(db_session, type_=RequestType.ACCESS,
                                    subject=service.Subject(email=EMAIL), actor="test")
    assert len(access.subject_lead_ids) == 2  # the lead and the duplicate merged into it
    export = service.export_request(db_session, access.id, actor="test")
    tables = export.tables
    assert {row["external_id"] for row in tables["leads"]} == {"DSAR-1", "DSAR-2"}
    assert {row["email"] for row in tables["leads"]} == {EMAIL}  # decrypted for the person
    assert any(row["raw"].get("publicIdentifier") == PUBLIC_ID for row in tables["observations"])  # raw included
    assert len(tables["observations"]) == 4  # two snapshots, the review candidate, the text naming their e-mail
    assert {"signals", "evidence", "matches", "lead_merges", "contact_attempts"} <= set(tables)
    assert tables["contact_attempts"][0]["target_encrypted"] == "+15125550199"  # decrypted for the person
    assert all(row["lead_id"] == str(person.id) for row in tables["signals"])
    assert {e["action"] for e in export.audit_entries} >= {"lead.update", "signal.acknowledged", "signal.actioned"}
    archive = zipfile.ZipFile(io.BytesIO(export.write_zip()))
    assert {"export.json", "leads.csv", "observations.csv", "signals.csv", "audit_log.csv"} <= set(archive.namelist())
    assert EMAIL in archive.read("leads.csv").decode()
    assert json.loads(archive.read("export.json"))["request_id"] == str(access.id)
    service.complete(db_session, access.id, actor="test")

    erasure = service.create_request(db_session, type_=RequestType.ERASURE,
                                     subject=service.Subject(linkedin=f"https://www.linkedin.com/in/{PUBLIC_ID}"),
                                     actor="test")
    done = service.erase(db_session, erasure.id, actor="admin:test")
    assert done.status == RequestStatus.COMPLETED.value and done.subject_encrypted is None
    assert done.outcome["deleted"]["leads"] == 2 and done.outcome["deleted"]["observations"] == 4

    assert find_pii(db_session, NEEDLES) == []  # no trace, in any column of any table
    assert db_session.get(DataSubjectRequest, access.id).subject_encrypted is None  # type: ignore[union-attr]
    # The bystander is untouched.
    assert db_session.get(Lead, bystander.id) is not None
    assert db_session.scalar(select(func.count()).select_from(Observation)
                             .where(Observation.lead_id == bystander.id)) == 1
    assert db_session.scalar(select(func.count()).select_from(Evidence)) == 0
    # Tombstones: keyed hashes only, and the erasure is audited by request id.
    assert db_session.scalar(select(func.count()).select_from(ErasureTombstone)) >= 3
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "privacy.dsar.erase")).one()
    assert entry.entity_id == str(erasure.id)
    assert verify_chain(db_session) is None


def test_an_erased_person_is_never_collected_again(db_session: Session) -> None:
    person, _ = build_person(db_session)
    erasure = service.create_request(db_session, type_=RequestType.ERASURE,
                                     subject=service.Subject(lead_ids=[person.id]), actor="test")
    service.erase(db_session, erasure.id, actor="test")
    assert tombstones.is_erased(db_session, email=EMAIL.upper())
    assert tombstones.is_erased(db_session, phone="+1 512 555 0199")
    assert tombstones.is_erased(db_session, linkedin_public_id=f"https://www.linkedin.com/in/{PUBLIC_ID}/")
    assert not tombstones.is_erased(db_session, email="ottoline@example.org")

    again = leads.import_leads(db_session, [_row("DSAR-9", NAME, SURNAME, EMAIL, "someone-else"),
                                            _row("NEW-1", "Ada", "Nobody", "ada@example.org", "ada-n")],
                               actor="test", portfolio_name="book")
    assert (again.created, again.suppressed) == (1, 1)
    report = ingest(db_session, [profile(PUBLIC_ID, NAME, SURNAME, [("Cook", "Diner", "Jan 2026")])], OCT)
    assert (report.suppressed, report.observations_created) == (1, 0)
    assert find_pii(db_session, [PUBLIC_ID, EMAIL]) == []


def test_erasure_without_any_lead_still_leaves_a_tombstone(db_session: Session) -> None:
    request = service.create_request(db_session, type_=RequestType.ERASURE,
                                     subject=service.Subject(email="never.seen@example.com"), actor="test")
    assert request.subject_lead_ids == []
    service.erase(db_session, request.id, actor="test")
    assert tombstones.is_erased(db_session, email="never.seen@example.com")
    report = ingest(db_session, [profile("never-seen", "Never", "Seen", [], ["never.seen@example.com"])], OCT)
    assert report.suppressed == 1
