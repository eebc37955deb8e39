"""Kill the sender (a real second process, SIGKILL) in the middle of a batch: on restart every delivery is sent,
none is lost, and a repeat carries the same Message-ID."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from factories import make_lead, make_portfolio, make_signal, make_user
from upswing.alert import sending, service
from upswing.alert.models import AlertDelivery, AlertRule
from upswing.alert.schemas import RuleCreate
from upswing.core.db import utcnow
from upswing.fakes.brevo import SEND_ROUTE, FakeBrevo
from upswing.fakes.server import Fault
from upswing.notify.email import BrevoTransport
from upswing.settings import get_settings

KEY = "xkeysib-crash"
DELIVERIES = 24
SENDER = "from upswing.alert import sending; sending.send_due(batch=50)"


@pytest.mark.slow
def test_a_sender_killed_mid_batch_loses_nothing(settings_database: sessionmaker[Session],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    factory = settings_database
    now = utcnow()
    with factory() as session, session.begin():
        session.execute(delete(AlertRule))
        service.create_rule(session, RuleCreate.model_validate({"name": "all", "channels": ["email"]}), user=None,
                            actor="test")
        portfolio = make_portfolio(session)
        for n in range(DELIVERIES):  # one agent per lead: the hourly cap does not divert any of them
            agent = make_user(session, username=f"crash-{n}")
            agent.email = f"crash-{n}@team.example"
            lead = make_lead(session, portfolio, assignee_id=agent.id)
            service.on_signal(session, make_signal(session, lead), now=now - timedelta(seconds=1))
        ids = set(session.scalars(select(AlertDelivery.id).where(AlertDelivery.channel == "email")))
    assert len(ids) == DELIVERIES

    fake = FakeBrevo(api_key=KEY)
    with fake as url:
        fake.inject(SEND_ROUTE, Fault.slow(0.1), times=10_000)  # a slow provider: the kill lands mid-batch
        env = {**os.environ, "UPSWING_EMAIL_TRANSPORT": "brevo", "UPSWING_BREVO_API_KEY": KEY,
               "UPSWING_BREVO_BASE_URL": url, "UPSWING_ALERT_DELIVERY_LEASE_SECONDS": "1"}
        sender = subprocess.Popen([sys.executable, "-c", SENDER], env=env)  # noqa: S603 - our own code
        try:
            deadline = time.monotonic() + 30
            while len(fake.messages) < 5 and time.monotonic() < deadline:
                time.sleep(0.02)
            os.kill(sender.pid, signal.SIGKILL)
        finally:
            sender.wait(timeout=10)
        assert sender.returncode == -signal.SIGKILL
        before_restart = len(fake.messages)
        assert 5 <= before_restart < DELIVERIES  # killed in the middle

        time.sleep(1.2)  # the dead sender's lease runs out
        monkeypatch.setenv("UPSWING_ALERT_DELIVERY_LEASE_SECONDS", "1")
        get_settings.cache_clear()
        report = sending.send_due(factory, transport=BrevoTransport(api_key=KEY, base_url=url,
                                                                    sender_email="alerts@upswing.example"))
        received = [m.header_message_id for m in fake.messages]

    expected = {f"<{delivery_id}@upswing.alerts>" for delivery_id in ids}
    assert set(received) == expected  # every delivery arrived
    repeats = [mid for mid, count in Counter(received).items() if count > 1]
    assert all(mid in expected for mid in repeats)  # a repeat is the same message, same Message-ID
    # At most the attempts not yet recorded when the process died: in flight, or sent and awaiting their record.
    assert len(received) - len(expected) <= sending._RECORD_EVERY + get_settings().alert_send_concurrency
    assert report.failed == 0
    with factory() as session:
        statuses = Counter(session.scalars(select(AlertDelivery.status).where(AlertDelivery.id.in_(ids))))
    assert statuses == {"sent": DELIVERIES}
