"""Lead import into the database: upsert on (portfolio, external_id), all-or-nothing, skip-invalid, audit."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factories import make_team, make_user
from upswing.audit.models import AuditEntry
from upswing.core.errors import NotFoundError, ValidationFailedError
from upswing.lead import service
from upswing.lead.importer import LeadFileError
from upswing.lead.models import Lead, Portfolio
from upswing.lead.service import LeadImportFailed, get_lead, get_or_create_portfolio, import_leads

HEADER = ["external_id", "first_name", "last_name", "email", "phone", "phone_type", "address", "city",
          "state", "postal_code", "country", "linkedin_url", "employer", "title", "balance",
          "days_delinquent", "assignee"]


def lead_row(n: int, **overrides: str) -> dict[str, str]:
    row = {
        "external_id": f"ACC-{n}", "first_name": f"First{n}", "last_name": f"Last{n}",
        "email": f"First{n}.Last@Example.com", "phone": f"(212) 555-01{n:02d}", "phone_type": "home",
        "address": f"{n} Main St", "city": "Austin", "state": "TX", "postal_code": "78701", "country": "US",
        "linkedin_url": f"https://www.linkedin.com/in/Person-{n}/", "employer": "Acme", "title": "Analyst",
        "balance": f"${n},000.50", "days_delinquent": str(n * 10), "assignee": "",
    }
    row.update(overrides)
    return row


def write_csv(path: Path, rows: list[dict[str, str]], header: list[str] | None = None) -> Path:
    header = header or HEADER
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def count(session: Session, model: type[Any]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def leads_by_external_id(session: Session) -> dict[str, Lead]:
    session.expire_all()
    return {lead.external_id: lead for lead in session.scalars(select(Lead))}


def test_good_csv_import(db_session: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "leads.csv", [lead_row(1), lead_row(2), lead_row(3, state="California")])
    progress: list[int] = []
    report = import_leads(db_session, path, actor="test", portfolio_name="Q4 book", progress=progress.append)

    assert (report.total, report.created, report.updated, report.unchanged, report.rejected) == (
        3, 3, 0, 0, 0)
    assert report.file == "leads.csv" and report.format == "csv" and report.portfolio == "Q4 book"
    assert report.encoding == "utf-8"
    assert report.errors == [] and report.warnings == [] and report.rejects_file is None
    assert sum(progress) == 3
    portfolio = db_session.scalars(select(Portfolio)).one()
    assert portfolio.name == "Q4 book"
    leads = leads_by_external_id(db_session)
    lead = leads["ACC-1"]
    assert lead.portfolio_id == portfolio.id
    assert lead.email == "first1.last@example.com" and lead.emails == ["first1.last@example.com"]
    assert lead.phone == "+12125550101" and lead.phones == [{"number": "+12125550101", "type": "home"}]
    assert lead.linkedin_url == "https://www.linkedin.com/in/person-1"
    assert lead.linkedin_public_id == "person-1"
    assert lead.timezone == "America/Chicago" and leads["ACC-3"].timezone == "America/Los_Angeles"
    assert leads["ACC-3"].state == "CA"
    assert (lead.state, lead.region, lead.region_code) == ("TX", "TX", "US-TX")
    assert (leads["ACC-3"].region, leads["ACC-3"].region_code) == ("California", "US-CA")
    assert lead.balance == Decimal("1000.50") and lead.days_delinquent == 10
    assert lead.status == "new" and lead.assignee_id is None and lead.created_at == lead.updated_at


def test_good_json_and_jsonl_imports(db_session: Session, tmp_path: Path) -> None:
    items: list[dict[str, Any]] = [
        {"id": "J-1", "FirstName": "Ann", "Surname": "Lee", "Mobile": "+1 212 555 0199", "dpd": 45,
         "amount_due": 1500.25, "zip": "10001", "state": "NY"},
        {"id": "J-2", "FirstName": "Bo", "Surname": "Ng"},
    ]
    (tmp_path / "a.json").write_text(json.dumps(items))
    report = import_leads(db_session, tmp_path / "a.json", actor="test")
    assert (report.format, report.created) == ("json", 2)

    lines = "\n".join(json.dumps({**item, "id": f"L-{item['id']}"}) for item in items)
    report = import_leads(db_session, lines.encode(), filename="upload.jsonl", actor="test")
    assert (report.format, report.created, report.file) == ("jsonl", 2, "upload.jsonl")

    leads = leads_by_external_id(db_session)
    assert set(leads) == {"J-1", "J-2", "L-J-1", "L-J-2"}
    lead = leads["L-J-1"]
    assert (lead.first_name, lead.last_name, lead.phone, lead.days_delinquent, lead.balance) == (
        "Ann", "Lee", "+12125550199", 45, Decimal("1500.25"))
    assert lead.timezone == "America/New_York" and lead.portfolio_id == leads["J-1"].portfolio_id


def test_bad_file_names_rows_and_fields_and_writes_nothing(db_session: Session, tmp_path: Path) -> None:
    rows = [
        lead_row(1),
        lead_row(2, email="not-an-email"),                    # row 3
        lead_row(3, last_name=""),                            # row 4
        lead_row(4, phone="555-12"),                          # row 5
        lead_row(5, state="XX"),                              # row 6
        lead_row(6, balance="-10.00"),                        # row 7
        lead_row(7, days_delinquent="a week"),                # row 8
        lead_row(8, external_id="ACC-1"),                     # row 9: duplicate of row 2
    ]
    path = write_csv(tmp_path / "bad.csv", rows)
    with pytest.raises(ValidationFailedError) as info:
        import_leads(db_session, path, actor="test")

    assert isinstance(info.value, LeadImportFailed)
    found = {(e["row"], e["field"]) for e in info.value.errors}
    assert found == {(3, "email"), (4, "last_name"), (5, "phone"), (6, "state"), (7, "balance"),
                     (8, "days_delinquent"), (9, "external_id")}
    email_error = next(e for e in info.value.errors if e["field"] == "email")
    assert email_error["value"] == "not-an-email" and "e-mail" in str(email_error["message"])
    report = info.value.report
    assert (report.total, report.rejected, report.error_count, report.created) == (8, 7, 7, 0)
    assert "7 of 8 row(s) are invalid" in str(info.value)
    assert count(db_session, Lead) == 0
    assert count(db_session, Portfolio) == 0
    assert count(db_session, AuditEntry) == 0
    assert not (tmp_path / "bad.rejects.csv").exists()


def test_unreadable_file_is_refused(db_session: Session) -> None:
    with pytest.raises(LeadFileError):
        import_leads(db_session, b"[{oops", filename="x.json", actor="test")
    assert count(db_session, Portfolio) == 0


def test_skip_invalid_writes_valid_rows_and_a_rejects_csv(db_session: Session, tmp_path: Path) -> None:
    header = [*HEADER, "notes"]
    rows = [lead_row(1, notes="ok"), lead_row(2, email="bad@", notes="fix me"),
            lead_row(3, phone="12", balance="-1", notes=""), lead_row(4, notes="")]
    path = write_csv(tmp_path / "mixed.csv", rows, header)
    report = import_leads(db_session, path, actor="test", skip_invalid=True)

    assert (report.total, report.created, report.rejected, report.error_count) == (4, 2, 2, 3)
    assert report.warnings == ["unknown column 'notes' ignored"]
    assert report.rejects_file == str(tmp_path / "mixed.rejects.csv")
    assert set(leads_by_external_id(db_session)) == {"ACC-1", "ACC-4"}
    with (tmp_path / "mixed.rejects.csv").open(newline="", encoding="utf-8") as handle:
        rejects = list(csv.DictReader(handle))
    assert [r["external_id"] for r in rejects] == ["ACC-2", "ACC-3"]
    assert list(rejects[0]) == [*header, "error"]
    assert rejects[0]["notes"] == "fix me" and rejects[0]["email"] == "bad@"
    assert rejects[0]["error"].startswith("email: not a valid e-mail address")
    assert rejects[1]["error"].startswith("phone: ")
    assert "; balance: must not be negative" in rejects[1]["error"]


def test_skip_invalid_with_explicit_rejects_path_for_an_upload(db_session: Session, tmp_path: Path) -> None:
    data = b"id,first_name,last_name\n1,A,B\n2,C,\n"
    target = tmp_path / "out" / "r.csv"
    target.parent.mkdir()
    report = import_leads(db_session, io.BytesIO(data), filename="u.csv", actor="t", skip_invalid=True,
                          rejects_path=target)
    assert (report.created, report.rejected, report.rejects_file) == (1, 1, str(target))
    assert target.read_text().splitlines() == ["id,first_name,last_name,error", "2,C,,last_name: is required"]
    # No path to put it next to and none given: the report still lists the errors.
    report = import_leads(db_session, data.replace(b"1,A", b"3,A"), filename="u.csv", actor="t",
                          skip_invalid=True)
    assert report.rejects_file is None and report.errors[0].row == 3


def test_dry_run_counts_but_writes_nothing(db_session: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "leads.csv", [lead_row(1), lead_row(2)])
    report = import_leads(db_session, path, actor="test", dry_run=True)
    assert report.dry_run and (report.created, report.updated, report.unchanged) == (2, 0, 0)
    assert count(db_session, Lead) == count(db_session, Portfolio) == count(db_session, AuditEntry) == 0

    import_leads(db_session, path, actor="test")
    write_csv(path, [lead_row(1), lead_row(2, title="Manager"), lead_row(3)])
    report = import_leads(db_session, path, actor="test", dry_run=True)
    assert (report.created, report.updated, report.unchanged) == (1, 1, 1)
    assert leads_by_external_id(db_session)["ACC-2"].title == "Analyst" and count(db_session, Lead) == 2
    assert count(db_session, AuditEntry) == 1

    write_csv(path, [lead_row(1, email="x")])
    with pytest.raises(LeadImportFailed):
        import_leads(db_session, path, actor="test", dry_run=True)


def test_reimporting_the_same_file_changes_nothing(db_session: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "leads.csv", [lead_row(n) for n in range(1, 6)])
    first = import_leads(db_session, path, actor="test")
    db_session.flush()
    before = {key: (lead.id, lead.updated_at) for key, lead in leads_by_external_id(db_session).items()}

    second = import_leads(db_session, path, actor="test")
    assert (first.created, second.created, second.updated, second.unchanged) == (5, 0, 0, 5)
    after = {key: (lead.id, lead.updated_at) for key, lead in leads_by_external_id(db_session).items()}
    assert after == before


def test_changed_row_updates_just_that_lead(db_session: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "leads.csv", [lead_row(1), lead_row(2), lead_row(3)])
    import_leads(db_session, path, actor="test")
    before = leads_by_external_id(db_session)
    stamps = {key: lead.updated_at for key, lead in before.items()}

    write_csv(path, [lead_row(1), lead_row(2, balance="99.99", email="new@example.com", phone="212 555 0177",
                                            phone_type="work"), lead_row(3)])
    report = import_leads(db_session, path, actor="test")
    assert (report.created, report.updated, report.unchanged) == (0, 1, 2)
    after = leads_by_external_id(db_session)
    changed = after["ACC-2"]
    assert changed.balance == Decimal("99.99") and changed.email == "new@example.com"
    assert changed.emails == ["new@example.com", "first2.last@example.com"]
    assert changed.phones == [{"number": "+12125550177", "type": "work"},
                              {"number": "+12125550102", "type": "home"}]
    assert changed.updated_at > stamps["ACC-2"] and changed.created_at == before["ACC-2"].created_at
    assert after["ACC-1"].updated_at == stamps["ACC-1"] and after["ACC-3"].updated_at == stamps["ACC-3"]


def test_columns_missing_from_the_file_are_left_alone(db_session: Session, tmp_path: Path) -> None:
    import_leads(db_session, write_csv(tmp_path / "full.csv", [lead_row(1)]), actor="test")
    slim = write_csv(tmp_path / "slim.csv",
                     [{"external_id": "ACC-1", "first_name": "Renamed", "last_name": "Last1"}],
                     ["external_id", "first_name", "last_name"])
    report = import_leads(db_session, slim, actor="test")
    assert report.updated == 1
    lead = leads_by_external_id(db_session)["ACC-1"]
    assert lead.first_name == "Renamed"
    assert lead.balance == Decimal("1000.50") and lead.phone == "+12125550101"


def test_same_external_id_in_another_portfolio_is_another_lead(db_session: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "leads.csv", [lead_row(1)])
    import_leads(db_session, path, actor="test", portfolio_name="a")
    report = import_leads(db_session, path, actor="test", portfolio_name="b")
    assert report.created == 1 and count(db_session, Lead) == 2


def test_assignee_and_team_resolution(db_session: Session, tmp_path: Path) -> None:
    north, south = make_team(db_session, "North"), make_team(db_session, "South")
    agent = make_user(db_session, team=north, username="agent.smith")
    inactive = make_user(db_session, username="gone")
    inactive.is_active = False
    db_session.flush()
    header = [*HEADER, "team"]
    rows = [lead_row(1, assignee="agent.smith", team=""), lead_row(2, assignee="AGENT.SMITH", team="south"),
            lead_row(3, assignee="", team="North")]
    report = import_leads(db_session, write_csv(tmp_path / "a.csv", rows, header), actor="test")
    assert report.created == 3
    leads = leads_by_external_id(db_session)
    assert (leads["ACC-1"].assignee_id, leads["ACC-1"].team_id) == (agent.id, None)  # empty team column
    assert (leads["ACC-2"].assignee_id, leads["ACC-2"].team_id) == (agent.id, south.id)
    assert (leads["ACC-3"].assignee_id, leads["ACC-3"].team_id) == (None, north.id)

    # Without a team column the lead follows its assignee's team.
    report = import_leads(db_session, write_csv(tmp_path / "b.csv", [lead_row(4, assignee="agent.smith")]),
                          actor="test")
    assert leads_by_external_id(db_session)["ACC-4"].team_id == north.id

    bad = [lead_row(5, assignee="nobody", team=""), lead_row(6, assignee="gone", team=""),
           lead_row(7, assignee="", team="West")]
    with pytest.raises(LeadImportFailed) as info:
        import_leads(db_session, write_csv(tmp_path / "c.csv", bad, header), actor="test")
    assert [(e["row"], e["field"], e["value"]) for e in info.value.errors] == [
        (2, "assignee", "nobody"), (3, "assignee", "gone"), (4, "team", "West")]
    assert "unknown user" in str(info.value.errors[0]["message"])
    assert "inactive" in str(info.value.errors[1]["message"])


def test_one_audit_entry_per_import(db_session: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "leads.csv", [lead_row(n) for n in range(1, 4)])
    import_leads(db_session, path, actor="user:alice", portfolio_name="audited")
    entries = db_session.scalars(select(AuditEntry)).all()
    assert len(entries) == 1
    entry = entries[0]
    portfolio = db_session.scalars(select(Portfolio)).one()
    assert (entry.actor, entry.action, entry.entity_type, entry.entity_id) == (
        "user:alice", "lead.import", "portfolio", str(portfolio.id))
    assert entry.details["file"] == "leads.csv" and entry.details["created"] == 3
    assert entry.details["portfolio"] == "audited" and entry.details["rejected"] == 0


def test_aliases_map_onto_lead_fields(db_session: Session) -> None:
    data = ("Account Number,First Name,Surname,E-mail,Mobile,ZIP,LinkedIn,Company,Job Title,Amount Due,DPD,"
            "Middle Name\n"
            "X1,Ann,Lee,ANN@EXAMPLE.COM,2125550150,10001,www.linkedin.com/in/ann-lee,Initech,CFO,\"$2,500\",61,Q\n")
    report = import_leads(db_session, data.encode("utf-8-sig"), filename="export.csv", actor="test")
    assert report.created == 1 and report.warnings == []
    lead = leads_by_external_id(db_session)["X1"]
    assert (lead.first_name, lead.middle_name, lead.last_name, lead.email, lead.phone, lead.postal_code) == (
        "Ann", "Q", "Lee", "ann@example.com", "+12125550150", "10001")
    assert (lead.linkedin_public_id, lead.employer, lead.title, lead.balance, lead.days_delinquent) == (
        "ann-lee", "Initech", "CFO", Decimal("2500"), 61)


def test_import_from_row_mappings(db_session: Session) -> None:
    report = import_leads(db_session, [{"id": "R1", "first_name": "A", "last_name": "B"}], actor="test")
    assert (report.created, report.format) == (1, "rows")


def test_many_rows_are_read_and_written_in_chunks(db_session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "IMPORT_CHUNK", 7)
    rows: list[dict[str, Any]] = [{"id": f"B{n}", "first_name": "A", "last_name": "B", "balance": n}
                                  for n in range(40)]
    progress: list[int] = []
    assert import_leads(db_session, rows, actor="test", progress=progress.append).created == 40
    assert progress == [7] * 5 + [5]
    changed = [{**row, "balance": n + 1 if n % 2 else n} for n, row in enumerate(rows)]
    report = import_leads(db_session, changed, actor="test")
    assert (report.updated, report.unchanged) == (20, 20)
    balances = dict(db_session.execute(select(Lead.external_id, Lead.balance)).all())
    assert balances["B3"] == Decimal("4") and balances["B4"] == Decimal("4") and len(balances) == 40
    assert import_leads(db_session, changed[:3], actor="test").unchanged == 3
    # A repeated external id is caught across chunks, naming the first row.
    with pytest.raises(LeadImportFailed) as info:
        import_leads(db_session, [*rows[:20], {**rows[3], "balance": 1}], actor="test")
    assert [(e["row"], e["field"]) for e in info.value.errors] == [(21, "external_id")]
    assert "first seen on row 4" in str(info.value.errors[0]["message"])


def test_portfolio_and_lead_helpers(db_session: Session) -> None:
    portfolio = get_or_create_portfolio(db_session, " books ")
    assert portfolio.name == "books" and get_or_create_portfolio(db_session, "books").id == portfolio.id
    assert get_or_create_portfolio(db_session, "").name == "default"
    import_leads(db_session, [{"id": "H1", "first_name": "A", "last_name": "B"}], actor="t",
                 portfolio_name="books")
    lead_id = db_session.scalars(select(Lead.id)).one()
    assert get_lead(db_session, lead_id).external_id == "H1"
    assert get_lead(db_session, str(lead_id)).id == lead_id
    with pytest.raises(NotFoundError):
        get_lead(db_session, "not-a-uuid")
    with pytest.raises(NotFoundError):
        get_lead(db_session, "00000000-0000-4000-8000-000000000000")
