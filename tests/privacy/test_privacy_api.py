"""The privacy API: configuration, the request queue end to end, the export download, the purge."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from sqlalchemy.orm import Session

from factories import auth, make_lead, make_user
from upswing.account.models import Role
from upswing.lead.models import Lead


def test_config_says_what_the_mode_keeps(app: Any, client: Any, db_session: Session) -> None:
    agent = make_user(db_session, Role.AGENT)
    db_session.commit()
    body = client.get("/api/v1/privacy/config", headers=auth(app, agent)).json()
    assert body["mode"] == "standard" and body["keep_raw_payloads"] is True
    assert body["retention_days"]["raw_payload"] == 180 and "photo" in body["never_stored_raw_keys"]


def test_request_lifecycle_over_the_api(app: Any, client: Any, db_session: Session) -> None:
    admin, manager = make_user(db_session, Role.ADMIN), make_user(db_session, Role.MANAGER)
    lead = make_lead(db_session, email="api.person@example.org", emails=["api.person@example.org"])
    db_session.commit()
    lead_id = lead.id
    headers = auth(app, admin)

    created = client.post("/api/v1/privacy/dsar", headers=headers, json={
        "type": "access", "regime": "gdpr", "received_at": "2026-01-05T09:00:00Z",
        "subject": {"email": "api.person@example.org"}})
    assert created.status_code == 201, created.text
    request = created.json()
    assert (request["status"], request["lead_ids"], request["due_at"]) == (
        "received", [str(lead_id)], "2026-02-05T09:00:00Z")
    assert "api.person" not in created.text  # the queue holds no personal data

    listed = client.get("/api/v1/privacy/dsar", headers=auth(app, manager), params={"overdue": "true"}).json()
    assert [item["id"] for item in listed["items"]] == [request["id"]]  # a month from January: overdue
    assert listed["items"][0]["overdue"] is True
    url = f"/api/v1/privacy/dsar/{request['id']}"
    assert client.post(f"{url}/complete", headers=headers).status_code == 409  # not exported yet
    exported = client.post(f"{url}/export", headers=headers)
    assert exported.status_code == 200 and exported.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(exported.content))
    assert "api.person@example.org" in archive.read("leads.csv").decode()
    as_json = client.post(f"{url}/export", headers=headers, params={"format": "json"}).json()
    assert as_json["tables"]["leads"][0]["id"] == str(lead_id)
    done = client.post(f"{url}/complete", headers=headers).json()
    assert done["status"] == "completed" and done["outcome"]["exported"] is True

    erasure = client.post("/api/v1/privacy/dsar", headers=headers, json={
        "type": "erasure", "subject": {"lead_ids": [str(lead_id)]}}).json()
    erased = client.post(f"/api/v1/privacy/dsar/{erasure['id']}/erase", headers=headers).json()
    assert erased["status"] == "completed" and erased["outcome"]["deleted"]["leads"] == 1
    db_session.expire_all()
    assert db_session.get(Lead, lead_id) is None


def test_bad_requests_are_explained(app: Any, client: Any, db_session: Session) -> None:
    admin = make_user(db_session, Role.ADMIN)
    db_session.commit()
    headers = auth(app, admin)
    no_id = client.post("/api/v1/privacy/dsar", headers=headers, json={"type": "access", "subject": {}})
    assert no_id.status_code == 422 and "identifier" in no_id.json()["detail"]
    # A time without a zone is UTC, as everywhere in the API and the CLI.
    naive = client.post("/api/v1/privacy/dsar", headers=headers, json={
        "type": "access", "received_at": "2026-11-02T09:00:00", "subject": {"email": "x@example.org"}})
    assert naive.status_code == 201 and naive.json()["received_at"].startswith("2026-11-02T09:00:00")
    nonsense = client.post("/api/v1/privacy/dsar", headers=headers, json={
        "type": "access", "received_at": "last tuesday", "subject": {"email": "x@example.org"}})
    assert nonsense.status_code == 422 and "received_at" in nonsense.text
    assert client.get("/api/v1/privacy/dsar/00000000-0000-0000-0000-000000000000",
                      headers=headers).status_code == 404
    created = client.post("/api/v1/privacy/dsar", headers=headers, json={
        "type": "correction", "subject": {"email": "x@example.org"}}).json()
    bad = client.post(f"/api/v1/privacy/dsar/{created['id']}/correct", headers=headers,
                      json={"changes": {"balance": "0"}})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "balance"
    wrong_type = client.post(f"/api/v1/privacy/dsar/{created['id']}/erase", headers=headers)
    assert wrong_type.status_code == 409 and "correction" in wrong_type.json()["detail"]


def test_purge_dry_run_over_the_api(app: Any, client: Any, db_session: Session) -> None:
    admin = make_user(db_session, Role.ADMIN)
    db_session.commit()
    report = client.post("/api/v1/privacy/purge", headers=auth(app, admin), json={}).json()
    assert report["dry_run"] is True and report["mode"] == "standard"
    assert {item["table"] for item in report["items"]} == {"observations", "signals", "evidence",
                                                           "privacy_requests"}
