"""/metrics (core/metrics.py, core/metrics_api.py): request latency by route template, task runs, queue depths,
outbox lag, sources, alert delivery latency and predictions; the scrape's protection, cache and time limit; the
multiprocess mode."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import delete, text
from sqlalchemy.orm import Session, sessionmaker

from factories import make_lead, make_portfolio, make_signal, make_user
from upswing.alert import sending, service
from upswing.alert.models import AlertRule
from upswing.alert.schemas import RuleCreate
from upswing.app import create_app
from upswing.core import tasks
from upswing.core.db import utcnow
from upswing.core.metrics import ALERT_DELIVERY_LATENCY, DatabaseGauges, Sample, declare_gauge
from upswing.core.outbox import OutboxEvent, OutboxReceipt
from upswing.core.tasks import TaskRun, TaskStatus, task
from upswing.detection.classifier import Prediction
from upswing.detection.text import analyze_texts
from upswing.notify.email import EmailMessage, SendResult
from upswing.settings import Settings
from upswing.signal.models import Signal
from upswing.source.models import BudgetUsage, Source
from upswing.source.service import today

SECRET = "s" * 40


def scrape(client: Any, **headers: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    answer = client.get("/metrics", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(answer.text) for sample in family.samples}


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@task("test.metrics_ok")
def metrics_ok() -> None:
    time.sleep(0.01)


@task("test.metrics_broken", max_attempts=2, retry_delay=timedelta(0))
def metrics_broken() -> None:
    raise RuntimeError("planned failure")


# --------------------------------------------------------------------------------------------------
# Requests


def test_requests_are_labelled_by_route_template_never_by_path(client: Any) -> None:
    lead_id = str(uuid.uuid4())
    before = value("upswing_http_request_duration_seconds_count", method="GET", route="/api/v1/leads/{lead_id}",
                   status="4xx")
    assert client.get(f"/api/v1/leads/{lead_id}").status_code == 401
    client.get("/api/v1/leads", params={"q": "ann@example.org"})
    client.get("/no/such/+15125550199")
    client.request("BREW", "/healthz")
    samples = scrape(client)
    assert value("upswing_http_request_duration_seconds_count", method="GET", route="/api/v1/leads/{lead_id}",
                 status="4xx") == before + 1
    routes = {labels["route"] for (name, label_set), _ in samples.items()
              if name == "upswing_http_request_duration_seconds_count" for labels in [dict(label_set)]}
    assert {"/api/v1/leads/{lead_id}", "/api/v1/leads", "/healthz"} <= routes
    assert all(route.startswith("/") or route == "unmatched" for route in routes)
    labels = " ".join(f"{k}={v}" for (name, label_set) in samples if name.startswith("upswing_http")
                      for k, v in label_set)
    for secret in (lead_id, "ann@", "example.org", "5125550199", "BREW"):
        assert secret not in labels  # no id, search or unknown method becomes a label value
    assert value("upswing_http_request_duration_seconds_count", method="other", route="/healthz",
                 status="4xx") >= 1


# --------------------------------------------------------------------------------------------------
# Protection


@contextmanager
def served(**settings: Any) -> Iterator[Any]:
    """An app on an empty in-memory database: the scrape's protection does not depend on what it reads."""
    app = create_app(Settings(database_url="sqlite://", secret_key=SECRET, **settings))
    with TestClient(app) as client:
        client.app_instance = app
        yield client


def test_a_token_protects_the_scrape() -> None:
    with served(metrics_token="scrape-token-123") as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Basic scrape-token-123"}).status_code == 401
        assert "upswing_metrics_database_up" in client.get(
            "/metrics", headers={"Authorization": "Bearer scrape-token-123"}).text
        assert "/metrics" not in client.app_instance.openapi()["paths"]  # not an API endpoint
    with served(environment="production") as client:
        assert client.get("/metrics").status_code == 404  # production: not without a token
    with served(metrics_enabled=False) as client:
        assert client.get("/metrics").status_code == 404


# --------------------------------------------------------------------------------------------------
# Gauges read from the database


def test_queues_outbox_and_sources_are_read_from_the_database(client: Any, db_session: Session) -> None:
    now = utcnow()
    db_session.add_all([
        TaskRun(name="test.metrics_ok", args=[], kwargs={}, idempotency_key=f"m:{uuid.uuid4()}",
                status=TaskStatus.QUEUED.value, run_after=now - timedelta(minutes=10)),
        TaskRun(name="test.metrics_ok", args=[], kwargs={}, idempotency_key=f"m:{uuid.uuid4()}",
                status=TaskStatus.QUEUED.value, run_after=now + timedelta(hours=1)),
        TaskRun(name="test.metrics_ok", args=[], kwargs={}, idempotency_key=f"m:{uuid.uuid4()}",
                status=TaskStatus.FAILED.value, run_after=now)])
    event = OutboxEvent(type="signal.created", entity_type="signal", entity_id="x", payload={},
                        created_at=now - timedelta(minutes=5))
    db_session.add(event)
    db_session.flush()
    db_session.add_all([OutboxReceipt(event_id=event.id, consumer="alert.evaluate", status="pending",
                                      event_at=now - timedelta(minutes=5), run_after=now),
                        OutboxReceipt(event_id=event.id, consumer="crm.enqueue", status="failed",
                                      event_at=now - timedelta(minutes=5), run_after=now)])
    source = Source(slug="metrics-linkedin", connector="no-such-connector", name="LinkedIn", config={},
                    budgets={"profiles": 300}, state="degraded", consecutive_failures=2, enabled=True)
    db_session.add(source)
    db_session.flush()
    db_session.add(BudgetUsage(source_id=source.id, name="profiles", day=today(), used=120))
    db_session.commit()

    samples = scrape(client)

    def get(name: str, **labels: str) -> float:
        return samples[(name, frozenset(labels.items()))]

    assert get("upswing_metrics_database_up") == 1
    assert get("upswing_task_runs_by_status", status="queued") == 2
    assert get("upswing_task_runs_by_status", status="failed") == 1
    assert get("upswing_task_queue_due") == 1
    assert 590 <= get("upswing_task_oldest_due_age_seconds") <= 900
    assert get("upswing_outbox_backlog", consumer="alert.evaluate") == 1
    assert get("upswing_outbox_failed", consumer="crm.enqueue") == 1
    assert 290 <= get("upswing_outbox_oldest_pending_age_seconds", consumer="alert.evaluate") <= 600
    assert get("upswing_outbox_oldest_pending_age_seconds", consumer="crm.enqueue") == 0
    assert get("upswing_source_state", source="metrics-linkedin", state="degraded") == 1
    assert get("upswing_source_state", source="metrics-linkedin", state="ok") == 0
    assert get("upswing_source_consecutive_failures", source="metrics-linkedin") == 2
    assert get("upswing_source_budget_used", source="metrics-linkedin", budget="profiles") == 120
    assert get("upswing_source_budget_limit", source="metrics-linkedin", budget="profiles") == 300


declare_gauge("test_reads", "reads of the fake reader")


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@contextmanager
def _fake_session() -> Iterator[Any]:
    class Bind:
        class dialect:  # mimics SQLAlchemy's attribute
            name = "sqlite"

    class FakeSession:
        def get_bind(self) -> Any:
            return Bind()

        def rollback(self) -> None:
            pass

    yield FakeSession()


def _values(gauges: DatabaseGauges) -> dict[str, float]:
    return {sample.name: sample.value for family in gauges.collect() for sample in family.samples}


def test_database_gauges_are_cached_and_survive_a_failing_read() -> None:
    reads: list[int] = []
    failing = False

    def reader(_session: Any) -> list[Sample]:
        if failing:
            raise RuntimeError("database down")
        reads.append(1)
        return [Sample("test_reads", float(len(reads)))]

    clock = _Clock()
    gauges = DatabaseGauges(_fake_session, [reader], cache_seconds=15, clock=clock)
    assert _values(gauges)["test_reads"] == 1
    clock.now += 10
    assert _values(gauges)["test_reads"] == 1 and len(reads) == 1  # within 15 s: the cached answer
    clock.now += 6
    assert _values(gauges)["test_reads"] == 2
    failing = True
    clock.now += 16
    answer = _values(gauges)
    assert answer["upswing_metrics_database_up"] == 0 and answer["test_reads"] == 2  # the last values, flagged


def test_a_slow_database_never_hangs_the_scrape(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as probe:
        if probe.get_bind().dialect.name != "postgresql":
            pytest.skip("statement timeouts are PostgreSQL's")

    def slow(session: Session) -> list[Sample]:
        session.execute(text("SELECT pg_sleep(5)"))
        return []

    gauges = DatabaseGauges(session_factory, [slow], cache_seconds=0, timeout_ms=200)
    started = time.perf_counter()
    answer = _values(gauges)
    assert time.perf_counter() - started < 2
    assert answer["upswing_metrics_database_up"] == 0
    with session_factory() as session:  # the test's transaction is usable, with its own timeout back
        assert session.execute(text("SELECT current_setting('statement_timeout')")).scalar() != "200ms"


# --------------------------------------------------------------------------------------------------
# Counted where it happens


def test_task_runs_and_durations_by_name_and_outcome(db_session: Session,
                                                     session_factory: sessionmaker[Session]) -> None:
    done = value("upswing_task_runs_total", task="test.metrics_ok", outcome="done")
    retried = value("upswing_task_runs_total", task="test.metrics_broken", outcome="retry")
    failed = value("upswing_task_runs_total", task="test.metrics_broken", outcome="failed")
    took = value("upswing_task_duration_seconds_sum", task="test.metrics_ok", outcome="done")
    ok_run = tasks.enqueue(db_session, "test.metrics_ok", key=f"ok:{uuid.uuid4()}")
    broken_run = tasks.enqueue(db_session, "test.metrics_broken", key=f"broken:{uuid.uuid4()}")
    db_session.commit()
    assert ok_run is not None and broken_run is not None
    assert tasks.execute(ok_run, worker="w", factory=session_factory).status == "done"
    assert tasks.execute(broken_run, worker="w", factory=session_factory).status == "retry"
    assert tasks.execute(broken_run, worker="w", factory=session_factory).status == "failed"
    assert value("upswing_task_runs_total", task="test.metrics_ok", outcome="done") == done + 1
    assert value("upswing_task_runs_total", task="test.metrics_broken", outcome="retry") == retried + 1
    assert value("upswing_task_runs_total", task="test.metrics_broken", outcome="failed") == failed + 1
    assert value("upswing_task_duration_seconds_sum", task="test.metrics_ok", outcome="done") >= took + 0.01


class _Outbox:
    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> SendResult:
        self.sent.append(message)
        return SendResult(provider_id=f"fake-{len(self.sent)}")


def test_alert_delivery_latency_from_detection_by_channel(db_session: Session,
                                                           session_factory: sessionmaker[Session]) -> None:
    in_app = value("upswing_alert_delivery_latency_seconds_count", channel="in_app")
    email = value("upswing_alert_delivery_latency_seconds_count", channel="email")
    email_sum = value("upswing_alert_delivery_latency_seconds_sum", channel="email")
    now = utcnow()
    db_session.execute(delete(AlertRule))
    service.create_rule(db_session, RuleCreate.model_validate({"name": "all", "channels": ["email", "in_app"]}),
                        user=None, actor="test")
    agent = make_user(db_session, username=f"latency-{uuid.uuid4().hex[:6]}")
    agent.email = "agent@team.example"
    lead = make_lead(db_session, make_portfolio(db_session), assignee_id=agent.id)
    signal_id = make_signal(db_session, lead)
    signal = db_session.get(Signal, signal_id)
    assert signal is not None
    signal.detected_at = now - timedelta(minutes=2)
    db_session.flush()
    service.on_signal(db_session, signal_id, now=now)
    db_session.commit()
    assert value("upswing_alert_delivery_latency_seconds_count", channel="in_app") == in_app + 1

    transport = _Outbox()
    report = sending.send_due(session_factory, transport=transport)
    assert report.sent == 1 and len(transport.sent) == 1
    assert value("upswing_alert_delivery_latency_seconds_count", channel="email") == email + 1
    assert 119 <= value("upswing_alert_delivery_latency_seconds_sum", channel="email") - email_sum < 300


class _Fixed:
    def __init__(self, labels: list[str]) -> None:
        self.labels = labels

    def predict(self, texts: Any) -> list[Prediction]:
        return [Prediction(label=label, confidence=0.9, evidence=None) for label in self.labels]


def test_model_predictions_are_counted_by_kind_and_label() -> None:
    before = {label: value("upswing_model_predictions_total", kind="person", label=label)
              for label in ("new_employment", "none")}
    analyze_texts(["Ann joined Acme as CFO.", "Lunch was good.", "Bob joined Initech."], kind="person",
                  classifier=_Fixed(["new_employment", "none", "new_employment"]))
    assert value("upswing_model_predictions_total", kind="person", label="new_employment") == \
        before["new_employment"] + 2
    assert value("upswing_model_predictions_total", kind="person", label="none") == before["none"] + 1


# --------------------------------------------------------------------------------------------------
# Several processes

_CHILD = """
from upswing.core.metrics import TASK_RUNS
TASK_RUNS.labels("test.multiprocess", "done").inc({n})
"""
_PARENT = """
from upswing.core.metrics import exposition_registry, render
print(render(exposition_registry()).decode())
"""


def test_processes_share_their_counters_in_multiprocess_mode(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for n in (2, 3):  # two worker processes, then the one that answers the scrape
        subprocess.run([sys.executable, "-c", _CHILD.format(n=n)], env=env, check=True, timeout=60)  # noqa: S603
    out = subprocess.run([sys.executable, "-c", _PARENT], env=env, check=True, timeout=60,  # noqa: S603
                         capture_output=True, text=True).stdout
    assert 'upswing_task_runs_total{outcome="done",task="test.multiprocess"} 5.0' in out


# --------------------------------------------------------------------------------------------------
# deploy/: the Grafana dashboard and the Prometheus rules use only metrics the app exposes

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
_METRIC = re.compile(r"\bupswing_[a-z0-9_]+\b")


def _dashboard_expressions() -> list[str]:
    dashboard = json.loads((DEPLOY / "grafana" / "upswing.json").read_text())
    assert dashboard["uid"] and dashboard["title"] and dashboard["panels"]
    expressions = []
    for panel in dashboard["panels"]:
        assert panel["type"] in ("row", "timeseries", "stat", "table"), panel["title"]
        for target in panel.get("targets", []):
            expressions.append(target["expr"])
    return expressions


def _rule_expressions() -> list[str]:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    expressions = []
    assert isinstance(rules["groups"], list) and rules["groups"]
    for group in rules["groups"]:
        assert set(group) <= {"name", "rules", "interval"} and group["name"] and group["rules"]
        for rule in group["rules"]:
            assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
            assert rule["alert"].startswith("Upswing") and rule["annotations"]["summary"]
            expressions.append(rule["expr"])
    return expressions


def test_the_dashboard_and_alert_rules_use_metrics_the_app_exposes(client: Any, db_session: Session,
                                                                   session_factory: sessionmaker[Session],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # Exercise every kind of metric once: a request, a task run, a delivery, a prediction, a source, Celery.
    client.get("/healthz")
    run_id = tasks.enqueue(db_session, "test.metrics_ok", key=f"deploy:{uuid.uuid4()}")
    db_session.add(Source(slug="deploy-source", connector="no-such-connector", name="Deploy", config={},
                          budgets={"calls": 10}, state="ok", consecutive_failures=0, enabled=True))
    db_session.commit()
    assert run_id is not None and tasks.execute(run_id, worker="w", factory=session_factory).status == "done"
    ALERT_DELIVERY_LATENCY.labels("email").observe(1.0)
    analyze_texts(["Ann joined Acme."], kind="person", classifier=_Fixed(["new_employment"]))
    monkeypatch.setattr(tasks, "get_settings", lambda: Settings(task_runner="celery"))
    monkeypatch.setattr(tasks, "celery_queue_length", lambda _url, _queue: 7)
    exposed = {sample.name for family in text_string_to_metric_families(client.get("/metrics").text)
               for sample in family.samples}
    assert "upswing_celery_queue_length" in exposed

    dashboard, rules = _dashboard_expressions(), _rule_expressions()
    used = {name for expression in dashboard + rules for name in _METRIC.findall(expression)}
    assert len(used) >= 15
    assert used - exposed == set(), "the dashboard or the rules name metrics /metrics does not have"
    for needed in ("upswing_http_request_duration_seconds_bucket", "upswing_task_runs_total",
                   "upswing_outbox_oldest_pending_age_seconds", "upswing_alert_delivery_latency_seconds_bucket",
                   "upswing_source_budget_used", "upswing_model_predictions_total", "upswing_task_queue_due"):
        assert any(needed in expression for expression in dashboard), needed
    promtool = shutil.which("promtool")
    if promtool is not None:  # the PromQL itself parses (Debian's prometheus package ships promtool)
        checked = {"groups": [{"name": "dashboard", "rules": [
            {"record": f"upswing:dashboard_{n}", "expr": expression.replace("$job", ".*")}
            for n, expression in enumerate(dashboard)]}]}
        path = Path(tempfile.mkdtemp()) / "dashboard-rules.yml"
        path.write_text(yaml.safe_dump(checked))
        for rules_file in (path, DEPLOY / "prometheus" / "alerts.yml"):
            result = subprocess.run([promtool, "check", "rules", str(rules_file)], capture_output=True,  # noqa: S603
                                    text=True, timeout=60)
            assert result.returncode == 0, result.stdout + result.stderr
