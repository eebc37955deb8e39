"""The services catalog: exact codes, CRUD over the API (managers/admins write), CSV import (all or nothing,
idempotent), the CLI (both databases)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factories import auth, make_user
from upswing.account.models import Role
from upswing.service_catalog import service
from upswing.service_catalog.models import Service
from upswing.service_catalog.schemas import ServiceCreate

GOOD = ("external_id,name,category,states,balance_min,balance_max,days_delinquent_min,need_profile,signal_types,"
        "industries,employment_states,active_from\n"
        "S-1,Hardship forbearance,hardship_forbearance,TX;CA,500,25000,30,hardship:1;restart:0.5,job_loss,,"
        "unemployed;unknown,2026-01-01\n"
        "S-2,Plan restart,repayment_plan,,,,,restart:1,new_employment|promotion,,,\n"
        ",Retail loan,business_loan,,,,,\"{\"\"loan\"\": 1}\",intent_loan_need,retail,,\n")


def _count(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Service)) or 0


def test_import_is_checked_whole_then_idempotent(db_session: Session) -> None:
    report = service.import_services(db_session, GOOD.encode(), actor="test", filename="catalog.csv")
    assert (report.total, report.created, report.updated, report.unchanged) == (3, 3, 0, 0)
    hardship = db_session.scalar(select(Service).where(Service.external_id == "S-1"))
    assert hardship is not None and hardship.states == ["TX", "CA"]
    assert hardship.need_profile == {"hardship": 1.0, "restart": 0.5}
    assert hardship.employment_states == ["unemployed", "unknown"]
    loan = db_session.scalar(select(Service).where(Service.name == "Retail loan"))
    assert loan is not None and loan.need_profile == {"loan": 1.0} and loan.industries == ["retail"]
    again = service.import_services(db_session, GOOD.encode(), actor="test", filename="catalog.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    changed = service.import_services(db_session, GOOD.replace("25000", "30000").encode(), actor="test",
                                      filename="catalog.csv")
    assert (changed.updated, changed.unchanged) == (1, 2)
    assert _count(db_session) == 3


def test_a_bad_file_names_rows_and_fields_and_writes_nothing(db_session: Session) -> None:
    bad = ("external_id,name,category,states,region_codes,balance_min,balance_max,need_profile,industries,"
           "local_radius_km\n"
           "OK-1,Fine,settlement,TX,,,,settlement:1,,\n"
           "B-1,Chicago plan,settlement,Chicago,,,,,,\n"
           "B-2,Bad region,settlement,,US-XX,,,,,\n"
           "B-3,Bad range,settlement,,,900,100,,,\n"
           "B-4,Bad need,settlement,,,,,greed:1,,\n"
           "B-5,Bad category,lottery,,,,,,,\n"
           "B-6,Bad industry,settlement,,,,,,mining,\n"
           "B-7,No centre,settlement,,,,,,,25\n"
           "B-8,,settlement,,,,,,,\n"
           "OK-1,Again,settlement,,,,,,,\n")
    with pytest.raises(service.ServiceImportFailed) as failed:
        service.import_services(db_session, bad.encode(), actor="test", filename="c.csv")
    errors = {(error.row, error.field) for error in failed.value.report.errors}
    assert {(3, "states"), (4, "region_codes"), (5, "balance_max"), (6, "need_profile"), (7, "category"),
            (8, "industries"), (9, "center_latitude"), (10, "name"), (11, "external_id")} <= errors
    assert not any(row == 2 for row, _ in errors)
    assert _count(db_session) == 0


def test_codes_are_exact() -> None:
    assert ServiceCreate(name="x", category="settlement", states=["ca", " TX "]).states == ["CA", "TX"]
    for wrong in (["Chicago"], ["Calif"], ["C"], ["XX"], ["US-CA"]):
        with pytest.raises(ValueError, match="USPS"):
            ServiceCreate(name="x", category="settlement", states=wrong)
    assert ServiceCreate(name="x", category="settlement", region_codes=["ca-on", "US-TX"]).region_codes == [
        "CA-ON", "US-TX"]
    with pytest.raises(ValueError, match="ISO 3166-2"):
        ServiceCreate(name="x", category="settlement", region_codes=["CA"])


def test_api_crud_role_checks_and_422(app: Any, client: Any, db_session: Session) -> None:
    manager, agent = make_user(db_session, Role.MANAGER), make_user(db_session, Role.AGENT)
    db_session.commit()
    body = {"name": "Hardship TX", "category": "hardship_forbearance", "states": ["TX"],
            "need_profile": {"hardship": 1.0}, "external_id": "H-1"}
    assert client.post("/api/v1/services", json=body, headers=auth(app, agent)).status_code == 403
    created = client.post("/api/v1/services", json=body, headers=auth(app, manager))
    assert created.status_code == 201, created.text
    service_id = created.json()["id"]
    assert client.post("/api/v1/services", json=body, headers=auth(app, manager)).status_code == 200
    listed = client.get("/api/v1/services", headers=auth(app, agent)).json()
    assert [item["name"] for item in listed["items"]] == ["Hardship TX"] and listed["total"] == 1
    for wrong, field in (({**body, "states": ["Chicago"]}, "states"), ({**body, "category": "x"}, "category"),
                         ({**body, "need_profile": {"hardship": 2}}, "need_profile"),
                         ({**body, "balance_min": 10, "balance_max": 1}, "balance_max")):
        answer = client.post("/api/v1/services", json=wrong, headers=auth(app, manager))
        assert answer.status_code == 422 and field in answer.text, answer.text
    updated = client.put(f"/api/v1/services/{service_id}", json={"states": ["CA", "TX"], "active": False},
                         headers=auth(app, manager))
    assert updated.status_code == 200 and updated.json()["states"] == ["CA", "TX"]
    assert client.put(f"/api/v1/services/{service_id}", json={"local_radius_km": 10},
                      headers=auth(app, manager)).status_code == 422
    assert client.get("/api/v1/services?active=true", headers=auth(app, agent)).json()["items"] == []
    assert client.get("/api/v1/services?limit=0", headers=auth(app, agent)).status_code == 422
    assert client.delete(f"/api/v1/services/{service_id}", headers=auth(app, agent)).status_code == 403
    assert client.delete(f"/api/v1/services/{service_id}", headers=auth(app, manager)).status_code == 204
    assert client.get(f"/api/v1/services/{service_id}", headers=auth(app, agent)).status_code == 404


def test_api_import_reports_rows(app: Any, client: Any, db_session: Session) -> None:
    admin = make_user(db_session, Role.ADMIN)
    db_session.commit()
    files = {"file": ("catalog.csv", GOOD.encode(), "text/csv")}
    first = client.post("/api/v1/services/import", files=files, headers=auth(app, admin))
    assert first.status_code == 200 and first.json()["created"] == 3
    bad = {"file": ("c.csv", b"name,category,states\nX,settlement,Chicago\n", "text/csv")}
    refused = client.post("/api/v1/services/import", files=bad, headers=auth(app, admin))
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["row"] == 2 and refused.json()["errors"][0]["field"] == "states"


def test_cli_manages_the_catalog(cli: Any, tmp_path: Any) -> None:
    assert cli("db", "upgrade").exit_code == 0
    catalog = tmp_path / "catalog.csv"
    catalog.write_text(GOOD)
    imported = cli("services", "import", str(catalog))
    assert imported.exit_code == 0 and "3 created" in imported.output
    assert "3 unchanged" in cli("services", "import", str(catalog)).output
    made = cli("services", "create", '{"name": "Settlement 40", "category": "settlement", "states": ["NY"]}')
    assert made.exit_code == 0 and "created" in made.output
    assert cli("services", "update", "Settlement 40", '{"states": ["NJ"]}').exit_code == 0
    listed = cli("services", "list")
    assert "Settlement 40" in listed.output and "NJ" in listed.output
    refused = cli("services", "create", '{"name": "X", "category": "settlement", "states": ["Chicago"]}')
    assert refused.exit_code != 0 and "USPS" in refused.output
    assert cli("services", "delete", "Settlement 40").exit_code == 0
    assert "Settlement 40" not in cli("services", "list").output
