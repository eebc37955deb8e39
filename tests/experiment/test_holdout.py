"""Holdout experiments end to end on both databases: a stratified, reproducible assignment; a control lead's
signal reaches no alert, digest, CRM push, escalation or agent's feed; the report over the API and CLI."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from factories import auth, make_lead, make_portfolio, make_signal, make_team, make_user
from upswing.account.models import Role
from upswing.alert import service as alerts
from upswing.alert.models import Alert, AlertRule, AlertSuppression
from upswing.alert.schemas import RuleCreate
from upswing.crm import service as crm
from upswing.crm.models import CrmPush
from upswing.digest import preferences as prefs
from upswing.digest import service as digests
from upswing.escalation import service as escalation
from upswing.experiment import service
from upswing.experiment.models import Arm, Assignment
from upswing.experiment.schemas import ExperimentCreate
from upswing.lead.models import Lead
from upswing.outcome.models import Outcome
from upswing.settings import Settings
from upswing.signal.models import Signal


def _experiment(session: Session, name: str = "exp", **fields: Any) -> Any:
    data = ExperimentCreate(name=name, planned_end=datetime.now(UTC) + timedelta(days=120), **fields)
    return service.create_experiment(session, data, actor="test")


def test_assignment_is_stratified_reproducible_and_exclusive(db_session: Session) -> None:
    big, small = make_portfolio(db_session, "big"), make_portfolio(db_session, "small")
    for n in range(120):
        make_lead(db_session, big, balance=Decimal(1_000 if n % 2 else 30_000))
    for _ in range(30):
        make_lead(db_session, small, balance=Decimal(10_000))
    experiment = _experiment(db_session, control_share=0.1)
    started = service.start(db_session, experiment, actor="test")
    assert (started.assigned, started.strata) == (150, 3)
    assignments = list(db_session.scalars(select(Assignment).where(Assignment.experiment_id == experiment.id)))
    per_stratum = Counter((a.stratum, a.arm) for a in assignments)
    assert per_stratum[("big|under 5k", "control")] == 6 and per_stratum[("big|20k+", "control")] == 6
    assert per_stratum[("small|5k-20k", "control")] == 3
    key = service.assignment_key()
    assert all(a.draw == service.draw(key, experiment.id, a.lead_id) for a in assignments)
    # Within a stratum the control group is exactly the lowest draws: anyone can check it with the key.
    stratum = [a for a in assignments if a.stratum == "small|5k-20k"]
    lowest = {a.lead_id for a in sorted(stratum, key=lambda a: a.draw)[:3]}
    assert lowest == {a.lead_id for a in stratum if a.arm == Arm.CONTROL.value}
    control_ids = {a.lead_id for a in assignments if a.arm == Arm.CONTROL.value}
    db_session.expire_all()
    assert set(db_session.scalars(select(Lead.id).where(Lead.holdout.is_(True)))) == control_ids
    # A second experiment cannot take leads the first one holds; a lead added later is assigned by its draw.
    other = _experiment(db_session, name="other")
    assert service.start(db_session, other, actor="test").assigned == 0
    late = make_lead(db_session, small, balance=Decimal(10_000))
    assert service.assign_new_leads(db_session, experiment) == 1
    late_row = db_session.get(Assignment, (experiment.id, late.id))
    assert late_row is not None
    assert late_row.arm == (Arm.CONTROL.value if late_row.draw < 0.1 else Arm.TREATMENT.value)
    service.end(db_session, experiment, actor="test")
    db_session.expire_all()
    assert db_session.scalar(select(Lead.id).where(Lead.holdout.is_(True))) is None


def test_a_control_leads_signal_reaches_nobody_but_admins(app: Any, client: Any, db_session: Session) -> None:
    team = make_team(db_session)
    agent = make_user(db_session, Role.AGENT, team=team)
    admin = make_user(db_session, Role.ADMIN)
    portfolio = make_portfolio(db_session, "holdout")
    leads = [make_lead(db_session, portfolio, assignee_id=agent.id, team_id=team.id, balance=Decimal(900))
             for _ in range(20)]
    experiment = _experiment(db_session, control_share=0.1, population={"portfolios": ["holdout"]})
    service.start(db_session, experiment, actor="test")
    arms = {a.lead_id: a.arm for a in db_session.scalars(select(Assignment))}
    control = next(lead for lead in leads if arms[lead.id] == Arm.CONTROL.value)
    treated = next(lead for lead in leads if arms[lead.id] == Arm.TREATMENT.value)
    db_session.expire_all()
    held = make_signal(db_session, db_session.get(Lead, control.id), confidence=0.99)
    worked = make_signal(db_session, db_session.get(Lead, treated.id), confidence=0.99)
    assert db_session.get(Signal, held).holdout and not db_session.get(Signal, worked).holdout
    connection = crm.create_connection(db_session, system="salesforce", name="sf-holdout",
                                       config={"instance_url": "http://127.0.0.1:9"}, actor="test")
    db_session.commit()

    # Alerts (one rule: every signal to its owner): none for the held-out signal, and the suppression says why.
    db_session.execute(delete(AlertRule))
    alerts.create_rule(db_session, RuleCreate.model_validate({"name": "all", "channels": ["in_app"]}), user=None,
                       actor="test")
    alerts.on_signals(db_session, [held, worked])
    assert db_session.scalar(select(Alert.id).where(Alert.signal_id == held)) is None
    assert db_session.scalar(select(Alert.id).where(Alert.signal_id == worked)) is not None
    assert db_session.scalar(select(AlertSuppression.reason).where(AlertSuppression.signal_id == held)) == "holdout"
    # CRM: never queued.
    crm.enqueue_signals(db_session, [held, worked])
    queued = set(db_session.scalars(select(CrmPush.signal_id).where(CrmPush.connection_id == connection.id)))
    assert queued == {worked}
    # Digest: not listed.
    now = datetime.now(UTC) + timedelta(minutes=1)
    settings = Settings(public_base_url="https://upswing.example.com")
    composed = digests.compose(db_session, agent, prefs.effective(db_session, agent, settings),
                               local_date=now.date(), since=now - timedelta(days=1), now=now, settings=settings)
    listed = {item.lead_external_id for group in composed.context.groups for item in group.items}
    assert treated.external_id in listed and control.external_id not in listed
    # Escalation: a held-out signal nobody acknowledges is not overdue work.
    escalation.run(db_session, now=now + timedelta(days=30))
    db_session.expire_all()
    assert db_session.get(Signal, held).escalation_level == 0
    db_session.commit()
    # The feed and the lead page: agents and managers do not see it; admins do, labelled.
    feed = client.get("/api/v1/signals", headers=auth(app, agent)).json()["items"]
    assert str(held) not in {item["id"] for item in feed} and str(worked) in {item["id"] for item in feed}
    assert client.get(f"/api/v1/signals/{held}", headers=auth(app, agent)).status_code == 404
    timeline = client.get(f"/api/v1/leads/{control.id}/timeline", headers=auth(app, agent)).json()["items"]
    assert not [item for item in timeline if item.get("signal_id") == str(held) or item.get("id") == str(held)]
    seen = client.get(f"/api/v1/signals/{held}", headers=auth(app, admin))
    assert seen.status_code == 200 and seen.json()["holdout"] is True


def test_report_over_the_api_and_the_cli_formats(app: Any, client: Any, db_session: Session) -> None:
    admin = make_user(db_session, Role.ADMIN)
    portfolio = make_portfolio(db_session, "rep")
    for _ in range(60):
        make_lead(db_session, portfolio)
    db_session.commit()
    headers = auth(app, admin)
    created = client.post("/api/v1/experiments", headers=headers, json={
        "name": "timing", "control_share": 0.2, "population": {"portfolios": ["rep"]},
        "planned_end": (datetime.now(UTC) + timedelta(days=90)).isoformat()})
    assert created.status_code == 201, created.text
    experiment_id = created.json()["id"]
    started = client.post(f"/api/v1/experiments/{experiment_id}/start", headers=headers).json()
    assert (started["control"], started["treatment"]) == (12, 48)
    assert client.post(f"/api/v1/experiments/{experiment_id}/start", headers=headers).status_code == 409
    today = date.today()
    for n, assignment in enumerate(db_session.scalars(select(Assignment).where(
            Assignment.experiment_id == uuid.UUID(experiment_id)))):
        if n % 3 == 0:
            db_session.add(Outcome(lead_id=assignment.lead_id, kind="payment", amount=Decimal(100 + n),
                                   occurred_on=today, source="api", created_by="test"))
    db_session.commit()
    report = client.get(f"/api/v1/experiments/{experiment_id}/report", headers=headers)
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["experiment"]["name"] == "timing"
    text = report.text
    assert "itt" in text or "intention" in text
    pdf = client.get(f"/api/v1/experiments/{experiment_id}/report", params={"format": "pdf"}, headers=headers)
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    csv_text = client.get(f"/api/v1/experiments/{experiment_id}/report", params={"format": "csv"},
                          headers=headers).text
    assert csv_text.splitlines()[0].startswith("section")
    read = client.get(f"/api/v1/experiments/{experiment_id}", headers=headers).json()
    assert read["arms"] == {"control": 12, "treatment": 48} and read["status"] == "running"
    power = client.get("/api/v1/experiments/power", headers=headers,
                       params={"base_rate": 0.05, "relative_lift": 0.2}).json()
    assert power["control"] > 1000 and "80%" in power["sentence"]


def test_cli_create_start_status_report(cli: Any, tmp_path: Any) -> None:
    assert cli("db", "upgrade").exit_code == 0
    leads = tmp_path / "leads.csv"
    leads.write_text("external_id,first_name,last_name,balance\n" +
                     "".join(f"C-{n},Ann,Lee{n},{1000 + n}\n" for n in range(40)))
    assert cli("leads", "import", str(leads)).exit_code == 0
    until = (datetime.now(UTC) + timedelta(days=60)).date().isoformat()
    created = cli("experiment", "create", "pilot", "--until", until, "--start")
    assert created.exit_code == 0, created.output
    assert "40 leads: 4 control, 36 treatment" in created.output
    assert "pilot" in cli("experiment", "status").output
    as_json = cli("experiment", "report", "pilot", "--format", "json")
    assert as_json.exit_code == 0 and '"sections"' in as_json.output
    pdf = tmp_path / "pilot.pdf"
    assert cli("experiment", "report", "pilot", "--format", "pdf", "--output", str(pdf)).exit_code == 0
    assert pdf.read_bytes().startswith(b"%PDF")
    assert cli("experiment", "report", "pilot", "--format", "pdf").exit_code == 1
    assert "need" in cli("experiment", "power", "--base-rate", "0.05", "--lift", "0.2").output
    assert cli("experiment", "end", "pilot").exit_code == 0
    assert cli("experiment", "end", "pilot").exit_code == 1


@pytest.mark.parametrize("share", [0.0, 0.5])
def test_a_control_share_outside_the_range_is_refused(db_session: Session, share: float) -> None:
    with pytest.raises(ValueError, match="control_share"):
        ExperimentCreate(name="x", control_share=share, planned_end=datetime.now(UTC) + timedelta(days=1))


@pytest.mark.parametrize(("control_rate", "treatment_rate"), [(0.10, 0.30), (0.20, 0.20)])
def test_the_whole_path_recovers_a_known_lift(db_session: Session, control_rate: float,
                                              treatment_rate: float) -> None:
    """Leads assigned, payments arriving at a known rate per arm, the report's intention-to-treat interval."""
    import random

    from upswing.experiment import report

    portfolio = make_portfolio(db_session, "sim")
    for _ in range(1_200):
        make_lead(db_session, portfolio, balance=Decimal(3_000))
    experiment = _experiment(db_session, control_share=0.25)
    start = datetime.now(UTC) - timedelta(days=100)
    service.start(db_session, experiment, actor="test", now=start)
    rng = random.Random(7)
    arms = {a.lead_id: a.arm for a in db_session.scalars(select(Assignment))}
    paid = Counter()
    for lead_id, arm in arms.items():
        if rng.random() < (control_rate if arm == Arm.CONTROL.value else treatment_rate):
            paid[arm] += 1
            db_session.add(Outcome(lead_id=lead_id, kind="payment", amount=Decimal(250),
                                   occurred_on=(start + timedelta(days=rng.randint(1, 80))).date(), source="api",
                                   created_by="test"))
    db_session.flush()
    built = report.build(db_session, experiment)
    overall = next(section for section in built.result.sections if section.section == "all")
    conversion = overall.itt.conversion
    # The report counts exactly what happened to each arm…
    assert (conversion.control_n, conversion.treatment_n) == (300, 900)
    assert (conversion.control_converted, conversion.treatment_converted) == (paid["control"], paid["treatment"])
    assert conversion.difference_ci is not None and conversion.difference is not None
    low, high = conversion.difference_ci
    assert low < conversion.difference < high
    # …and lands near the lift built in: within four standard errors (the interval's own coverage is checked over
    # 800 simulated intervals in test_analysis.py).
    truth = treatment_rate - control_rate
    standard_error = (control_rate * (1 - control_rate) / 300 + treatment_rate * (1 - treatment_rate) / 900) ** 0.5
    assert abs(conversion.difference - truth) < 4 * standard_error
    assert overall.itt.significant == (low > 0 or high < 0)
    assert overall.per_protocol.block != overall.itt.block  # shown beside it, labelled
