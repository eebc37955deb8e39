"""Outcomes: recorded over the API (keyed, versioned, synced), imported from a lender's file (all or nothing,
idempotent), made from signals, promises settled, and what they add up to per lead (both databases)."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factories import auth, make_lead, make_portfolio, make_signal, make_team, make_user
from upswing.account.models import Role
from upswing.outcome import service
from upswing.outcome.models import Outcome
from upswing.signal import service as signal_service
from upswing.signal.models import SignalAction, SignalOutcome

GOOD = ("external_id,lead_external_id,kind,amount,date,due_date,note\n"
        "PAY-1,{a},payment,$1,250.50,2026-10-03,,\n"
        "PRM-1,{a},promise,300,2026-10-01,2026-10-15,\n"
        "DSP-1,{b},dispute,,2026-10-05,,says not theirs\n")


def _count(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Outcome)) or 0


def test_import_is_checked_whole_then_idempotent(db_session: Session) -> None:
    portfolio = make_portfolio(db_session)
    a, b = make_lead(db_session, portfolio), make_lead(db_session, portfolio)
    text = GOOD.format(a=a.external_id, b=b.external_id).replace("$1,250.50", '"$1,250.50"')
    report = service.import_outcomes(db_session, text.encode(), actor="test", filename="outcomes.csv")
    assert (report.total, report.created, report.updated, report.unchanged) == (3, 3, 0, 0)
    payment = db_session.scalar(select(Outcome).where(Outcome.external_id == "PAY-1"))
    assert payment is not None and payment.amount == Decimal("1250.50") and payment.source == "import"
    promise = db_session.scalar(select(Outcome).where(Outcome.external_id == "PRM-1"))
    assert promise is not None and promise.promise_status == "pending"
    again = service.import_outcomes(db_session, text.encode(), actor="test", filename="outcomes.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    changed = service.import_outcomes(db_session, text.replace("300,", "350,").encode(), actor="test",
                                      filename="outcomes.csv")
    assert (changed.updated, changed.unchanged) == (1, 2)
    assert _count(db_session) == 3


def test_a_bad_file_names_rows_and_fields_and_writes_nothing(db_session: Session) -> None:
    lead = make_lead(db_session)
    bad = ("external_id,lead_external_id,kind,amount,date,due_date\n"
           f"OK-1,{lead.external_id},payment,10,2026-10-03,\n"
           f"B-1,{lead.external_id},payment,,2026-10-03,\n"
           "B-2,NOBODY,payment,10,2026-10-03,\n"
           f"B-3,{lead.external_id},promise,10,2026-10-03,\n"
           f"B-4,{lead.external_id},refund,10,2026-10-03,\n"
           f"B-5,{lead.external_id},payment,ten,2026-10-03,\n"
           f"B-6,{lead.external_id},payment,10,03/10/2026x,\n"
           f"OK-1,{lead.external_id},payment,10,2026-10-03,\n")
    with pytest.raises(service.OutcomeImportFailed) as failed:
        service.import_outcomes(db_session, bad.encode(), actor="test", filename="o.csv")
    errors = {(error.row, error.field) for error in failed.value.report.errors}
    assert {(3, "amount"), (4, "lead_external_id"), (5, "due_on"), (6, "kind"), (7, "amount"),
            (8, "occurred_on"), (9, "external_id")} <= errors
    assert (2, "amount") not in errors
    assert _count(db_session) == 0


def test_xlsx_files_import_like_csv(db_session: Session) -> None:
    lead = make_lead(db_session)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["External ID", "Lead External ID", "Kind", "Amount", "Date"])
    sheet.append(["X-1", lead.external_id, "Payment", 99.5, date(2026, 9, 30)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = service.import_outcomes(db_session, buffer.getvalue(), actor="test", filename="o.xlsx")
    assert report.created == 1
    stored = db_session.scalar(select(Outcome).where(Outcome.external_id == "X-1"))
    assert stored is not None and stored.amount == Decimal("99.50") and stored.occurred_on == date(2026, 9, 30)


def test_api_records_keyed_outcomes_versions_them_and_lists_changes(app: Any, client: Any,
                                                                   db_session: Session) -> None:
    team = make_team(db_session)
    agent = make_user(db_session, Role.AGENT, team=team)
    stranger = make_user(db_session, Role.AGENT, team=make_team(db_session))
    lead = make_lead(db_session, assignee_id=agent.id, team_id=team.id)
    db_session.commit()
    headers = auth(app, agent)
    body = {"lead_id": str(lead.id), "kind": "payment", "amount": "75.00", "occurred_on": "2026-11-02",
            "external_id": "CRM-PAY-9"}
    created = client.post("/api/v1/outcomes", json=body, headers=headers)
    assert created.status_code == 201, created.text
    repeat = client.post("/api/v1/outcomes", json=body, headers=headers)
    assert repeat.status_code == 200 and repeat.json()["id"] == created.json()["id"]
    assert client.post("/api/v1/outcomes", json={**body, "amount": "0"}, headers=headers).status_code == 422
    refused = client.post("/api/v1/outcomes", json={**body, "external_id": None}, headers=auth(app, stranger))
    assert refused.status_code == 404  # not their lead
    promise = client.post("/api/v1/outcomes", headers=headers, json={
        "lead_external_id": lead.external_id, "kind": "promise", "amount": "150", "occurred_on": "2026-11-03",
        "due_on": "2026-11-20"}).json()
    url = f"/api/v1/outcomes/{promise['id']}"
    etag = client.get(url, headers=headers).headers["ETag"]
    kept = client.patch(url, json={"promise_status": "kept"}, headers={**headers, "If-Match": etag})
    assert kept.status_code == 200 and kept.json()["promise_status"] == "kept"
    assert client.patch(url, json={"promise_status": "broken"},
                        headers={**headers, "If-Match": etag}).status_code == 412
    changes = client.get("/api/v1/outcomes", params={"sort": "updated_at", "limit": 1}, headers=headers).json()
    second = client.get("/api/v1/outcomes", params={"sort": "updated_at", "limit": 1,
                                                    "cursor": changes["next_cursor"]}, headers=headers).json()
    assert [changes["items"][0]["id"], second["items"][0]["id"]] == [created.json()["id"], promise["id"]]
    assert client.get("/api/v1/outcomes", headers=auth(app, stranger)).json()["items"] == []
    summary = client.get(f"/api/v1/leads/{lead.id}/outcomes", headers=headers).json()
    assert summary["summary"]["recovered"] == "75.00"
    assert summary["summary"]["promises_kept"] == 1
    assert summary["summary"]["first_payment_on"] == "2026-11-02"
    assert len(summary["items"]) == 2


def test_a_payment_recorded_on_a_signal_becomes_an_outcome_once(db_session: Session, deliver_events: Any,
                                                                us_daytime: Any) -> None:
    admin = make_user(db_session, Role.ADMIN)
    lead = make_lead(db_session)
    signal_id = make_signal(db_session, lead)
    signal_service.record_action(db_session, signal_id, SignalAction.CRM_TASK, user=admin)
    signal_service.record_outcome(db_session, signal_id, SignalOutcome.PAYMENT, user=admin)
    db_session.commit()
    deliver_events()
    deliver_events()
    db_session.expire_all()
    (made,) = db_session.scalars(select(Outcome).where(Outcome.lead_id == lead.id)).all()
    assert (made.kind, made.source, made.signal_id, made.amount) == ("payment", "signal", signal_id, None)
    summary = service.summaries(db_session, [lead])[lead.id]
    assert summary.payments == 1 and summary.recovered == Decimal("0")


def test_promises_are_settled_by_the_payments_that_follow(db_session: Session) -> None:
    lead, other = make_lead(db_session), make_lead(db_session)
    start = date(2026, 10, 1)
    for target, external_id in ((lead, "K"), (other, "B")):
        db_session.add(Outcome(lead_id=target.id, kind="promise", amount=Decimal("100"), occurred_on=start,
                               due_on=start + timedelta(days=10), promise_status="pending", source="api",
                               external_id=external_id, created_by="test"))
    db_session.add(Outcome(lead_id=lead.id, kind="payment", amount=Decimal("100"), occurred_on=start + timedelta(12),
                           source="api", created_by="test"))  # within the grace days
    db_session.add(Outcome(lead_id=other.id, kind="payment", amount=Decimal("40"), occurred_on=start + timedelta(5),
                           source="api", created_by="test"))  # short of the amount
    db_session.flush()
    assert service.settle_promises(db_session, today=start + timedelta(days=30)) == (1, 1)
    statuses = dict(db_session.execute(select(Outcome.external_id, Outcome.promise_status)
                                       .where(Outcome.kind == "promise")).all())
    assert statuses == {"K": "kept", "B": "broken"}


def test_cli_imports_and_summarises(cli: Any, tmp_path: Any) -> None:
    assert cli("db", "upgrade").exit_code == 0
    leads = tmp_path / "leads.csv"
    leads.write_text("external_id,first_name,last_name\nA-1,Ann,Lee\nA-2,Bo,Park\n")
    assert cli("leads", "import", str(leads)).exit_code == 0
    outcomes = tmp_path / "outcomes.csv"
    outcomes.write_text("external_id,lead_external_id,kind,amount,date\nP-1,A-1,payment,120,2026-11-02\n"
                        "P-2,A-1,payment,80.25,2026-11-20\n")
    imported = cli("outcomes", "import", str(outcomes))
    assert imported.exit_code == 0 and "2 created" in imported.output
    assert "2 unchanged" in cli("outcomes", "import", str(outcomes)).output
    assert "$200.25 recovered in 2 payment(s)" in cli("outcomes", "summary", "A-1").output
    bad = tmp_path / "bad.csv"
    bad.write_text("external_id,lead_external_id,kind,amount,date\nP-9,NOPE,payment,1,2026-11-02\n")
    refused = cli("outcomes", "import", str(bad))
    assert refused.exit_code == 1 and "row 2, field 'lead_external_id'" in refused.output


def test_machine_clients_read_with_leads_read_and_write_with_outcomes_write(app: Any, client: Any,
                                                                            db_session: Session) -> None:
    import base64
    import uuid

    admin = make_user(db_session, Role.ADMIN)
    lead = make_lead(db_session)
    db_session.commit()

    def token(scopes: list[str]) -> dict[str, str]:
        registered = client.post("/api/v1/api-clients", headers=auth(app, admin),
                                 json={"name": f"crm-{uuid.uuid4().hex[:8]}", "scopes": scopes}).json()
        basic = base64.b64encode(f"{registered['id']}:{registered['client_secret']}".encode()).decode()
        answer = client.post("/api/v1/oauth/token", data={"grant_type": "client_credentials"},
                             headers={"Authorization": f"Basic {basic}"}).json()
        return {"Authorization": f"Bearer {answer['access_token']}"}

    writer, reader = token(["outcomes:write"]), token(["leads:read"])
    body = {"lead_external_id": lead.external_id, "kind": "payment", "amount": "10", "occurred_on": "2026-11-01",
            "external_id": "CLIENT-1"}
    assert client.post("/api/v1/outcomes", json=body, headers=writer).status_code == 201
    assert client.post("/api/v1/outcomes", json=body, headers=reader).status_code == 403
    listed = client.get("/api/v1/outcomes", headers=reader)
    assert listed.status_code == 200 and [item["external_id"] for item in listed.json()["items"]] == ["CLIENT-1"]
    assert client.get("/api/v1/outcomes", headers=writer).status_code == 403
