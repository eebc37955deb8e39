"""The lead API for sync clients (CRMs): changes since a time in a stable order, versions on updates, ids in
outside systems, and bulk upsert by external id."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from factories import auth, make_lead, make_portfolio, make_user
from upswing.account.models import Role
from upswing.core.db import utcnow
from upswing.lead.models import Lead, LeadCrmId


@pytest.fixture
def manager(app: Any, db_session: Session) -> dict[str, str]:
    user = make_user(db_session, Role.MANAGER)
    db_session.commit()
    return auth(app, user)


def _walk(client: Any, headers: dict[str, str], params: dict[str, Any],
          between_pages: Any = None) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = client.get("/api/v1/leads", params={**params, **({"cursor": cursor} if cursor else {})},
                          headers=headers)
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return items
        if between_pages is not None:
            between_pages()


def test_changes_since_a_time_oldest_first_stable_while_leads_arrive(client: Any, db_session: Session,
                                                                       manager: dict[str, str]) -> None:
    portfolio = make_portfolio(db_session)
    start = utcnow() - timedelta(hours=2)
    old = make_lead(db_session, portfolio)
    old.updated_at = start - timedelta(hours=1)
    leads = [make_lead(db_session, portfolio) for _ in range(7)]
    for minutes, lead in enumerate(leads):
        lead.updated_at = start + timedelta(minutes=minutes)
    db_session.commit()
    arrived: list[Lead] = []

    def another_arrives() -> None:
        arrived.append(make_lead(db_session, portfolio))
        db_session.commit()

    seen = _walk(client, manager, {"sort": "updated_at", "updated_since": start.isoformat(), "limit": 2},
                 between_pages=another_arrives)
    ids = [item["id"] for item in seen]
    assert len(ids) == len(set(ids))  # nothing twice
    assert ids[:7] == [str(lead.id) for lead in leads]  # every lead changed since, oldest change first
    assert str(old.id) not in ids
    assert set(ids[7:]) <= {str(lead.id) for lead in arrived}  # what arrived meanwhile comes after, never before
    assert [item["updated_at"] for item in seen] == sorted(item["updated_at"] for item in seen)


def test_a_cursor_of_another_sort_is_refused(client: Any, manager: dict[str, str], db_session: Session) -> None:
    portfolio = make_portfolio(db_session)
    for _ in range(3):
        make_lead(db_session, portfolio)
    db_session.commit()
    first = client.get("/api/v1/leads", params={"limit": 1}, headers=manager).json()
    refused = client.get("/api/v1/leads", params={"limit": 1, "sort": "updated_at",
                                                  "cursor": first["next_cursor"]}, headers=manager)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "cursor"


def test_etag_and_if_match_refuse_a_change_made_on_an_old_version(client: Any, db_session: Session,
                                                                   manager: dict[str, str]) -> None:
    lead = make_lead(db_session)
    db_session.commit()
    url = f"/api/v1/leads/{lead.id}"
    read = client.get(url, headers=manager)
    etag = read.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    changed = client.patch(url, json={"status": "contacted"}, headers={**manager, "If-Match": etag})
    assert changed.status_code == 200, changed.text
    assert changed.headers["ETag"] != etag
    assert client.get(url, headers=manager).headers["ETag"] == changed.headers["ETag"]
    stale = client.patch(url, json={"status": "new"}, headers={**manager, "If-Match": etag})
    assert stale.status_code == 412
    db_session.expire_all()
    assert db_session.get(Lead, lead.id).status == "contacted"  # type: ignore[union-attr]
    # Weak form, a list, and * are understood; no header changes unconditionally.
    current = changed.headers["ETag"]
    assert client.patch(url, json={"status": "contacted"},
                        headers={**manager, "If-Match": f'"x", W/{current}'}).status_code == 200
    assert client.patch(url, json={"status": "new"}, headers={**manager, "If-Match": "*"}).status_code == 200
    assert client.patch(url, json={"status": "contacted"}, headers=manager).status_code == 200


def test_crm_ids_are_set_found_removed_and_unique_per_system(client: Any, db_session: Session,
                                                              manager: dict[str, str]) -> None:
    lead, other = make_lead(db_session), make_lead(db_session)
    db_session.commit()
    url = f"/api/v1/leads/{lead.id}"
    before = client.get(url, headers=manager).json()["updated_at"]
    set_ids = client.patch(url, json={"crm_ids": {"hubspot": "5101", "my_crm": "A-7"}}, headers=manager)
    assert set_ids.status_code == 200, set_ids.text
    assert set_ids.json()["crm_ids"] == {"hubspot": "5101", "my_crm": "A-7"}
    assert set_ids.json()["updated_at"] > before  # sync clients see the change
    found = client.get("/api/v1/leads", params={"crm_id": "hubspot:5101"}, headers=manager).json()["items"]
    assert [item["id"] for item in found] == [str(lead.id)]
    assert client.get("/api/v1/leads", params={"crm_id": "hubspot:9999"}, headers=manager).json()["items"] == []
    taken = client.patch(f"/api/v1/leads/{other.id}", json={"crm_ids": {"hubspot": "5101"}}, headers=manager)
    assert taken.status_code == 409
    assert "crm_ids.hubspot" in taken.json()["detail"]
    removed = client.patch(url, json={"crm_ids": {"my_crm": None}}, headers=manager)
    assert removed.json()["crm_ids"] == {"hubspot": "5101"}
    bad = client.patch(url, json={"crm_ids": {"Not A System": "1"}}, headers=manager)
    assert bad.status_code == 422
    assert client.get("/api/v1/leads", params={"crm_id": "no-colon"}, headers=manager).status_code == 422


def test_bulk_upsert_creates_updates_and_reports_each_item(client: Any, db_session: Session,
                                                           manager: dict[str, str]) -> None:
    existing = make_lead(db_session, make_portfolio(db_session, "sync"), external_id="S-1", balance=100)
    db_session.commit()
    body = {"portfolio": "sync", "items": [
        {"external_id": "S-1", "balance": "250.00"},  # only the balance: the rest of the lead is kept
        {"external_id": "S-2", "first_name": "Ana", "last_name": "Diaz", "crm_ids": {"hubspot": "77"}},
    ]}
    result = client.post("/api/v1/leads/bulk-upsert", json=body, headers=manager)
    assert result.status_code == 200, result.text
    items = result.json()["items"]
    assert [(item["row"], item["external_id"], item["result"]) for item in items] == [
        (1, "S-1", "updated"), (2, "S-2", "created")]
    assert items[0]["id"] == str(existing.id)
    db_session.expire_all()
    lead = db_session.get(Lead, existing.id)
    assert lead is not None and str(lead.balance) == "250.00" and lead.first_name == "Jordan"
    assert db_session.scalar(select(LeadCrmId.crm_id).where(LeadCrmId.lead_id == uuid.UUID(items[1]["id"]))) == "77"
    again = client.post("/api/v1/leads/bulk-upsert", json=body, headers=manager).json()["items"]
    assert [item["result"] for item in again] == ["unchanged", "unchanged"]


def test_bulk_upsert_writes_nothing_when_an_item_is_invalid(client: Any, db_session: Session,
                                                            manager: dict[str, str]) -> None:
    body = {"portfolio": "sync-bad", "items": [
        {"external_id": "B-1", "first_name": "Ana", "last_name": "Diaz"},
        {"external_id": "B-2", "first_name": "Ben", "last_name": "Cole", "email": "nope"},
        {"external_id": "B-1", "first_name": "Ana", "last_name": "Diaz"},
    ]}
    refused = client.post("/api/v1/leads/bulk-upsert", json=body, headers=manager)
    assert refused.status_code == 422
    errors = {(error["row"], error["field"]) for error in refused.json()["errors"]}
    assert (2, "email") in errors
    assert any(row == 3 for row, _ in errors)  # the repeated external id
    db_session.expire_all()
    assert db_session.scalar(select(Lead.id).where(Lead.external_id.in_(["B-1", "B-2"]))) is None
    unknown_field = client.post("/api/v1/leads/bulk-upsert", headers=manager, json={
        "items": [{"external_id": "B-9", "first_name": "A", "last_name": "B", "ssn": "1"}]})
    assert unknown_field.status_code == 422
    assert "items.0.ssn" in unknown_field.text
    assert client.post("/api/v1/leads/bulk-upsert", headers=manager, json={"items": []}).status_code == 422


def test_agents_cannot_bulk_upsert(app: Any, client: Any, db_session: Session) -> None:
    agent = make_user(db_session, Role.AGENT)
    db_session.commit()
    refused = client.post("/api/v1/leads/bulk-upsert", headers=auth(app, agent), json={
        "items": [{"external_id": "A-1", "first_name": "A", "last_name": "B"}]})
    assert refused.status_code == 403


def test_cli_finds_a_lead_by_its_crm_id(cli: Any, tmp_path: Any) -> None:
    from upswing.core.db import transaction
    from upswing.lead.service import set_crm_ids

    assert cli("db", "upgrade").exit_code == 0
    leads = tmp_path / "leads.csv"
    leads.write_text("external_id,first_name,last_name\nC-1,Ann,Lee\nC-2,Bo,Park\n")
    assert cli("leads", "import", str(leads)).exit_code == 0
    with transaction() as session:
        lead = session.scalar(select(Lead).where(Lead.external_id == "C-2"))
        assert lead is not None
        set_crm_ids(session, lead, {"salesforce": "00Q5e00000AbCdE"})
    found = cli("leads", "list", "--crm-id", "salesforce:00Q5e00000AbCdE")
    assert found.exit_code == 0 and "1 lead(s)" in found.output and "C-2" in found.output
    assert "0 lead(s)" in cli("leads", "list", "--crm-id", "salesforce:nope").output
    assert cli("leads", "list", "--crm-id", "salesforce").exit_code == 2
