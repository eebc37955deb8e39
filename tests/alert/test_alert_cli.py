"""The alert commands on both databases: rules with a named error, a dry run, the inbox and the terminal tail."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from factories import make_lead, make_signal, make_user
from upswing.alert import service
from upswing.alert.models import Alert
from upswing.core.db import transaction


def test_rules_inbox_and_tail(cli: Callable[..., Any]) -> None:
    assert cli("db", "upgrade").exit_code == 0
    bad = cli("alerts", "rules", "create", "typo", "--conditions", '{"min_scor": 70}')
    assert bad.exit_code == 1 and "conditions.min_scor" in bad.output

    created = cli("alerts", "rules", "create", "New jobs", "--conditions", '{"signal_types": ["new_employment"]}',
                  "--channels", "in_app,dashboard")
    assert created.exit_code == 0, created.output
    rule = json.loads(created.output)
    assert rule["channels"] == ["in_app"] and rule["conditions"] == {"signal_types": ["new_employment"]}

    with transaction() as session:
        agent = make_user(session, username="tail.agent")
        lead = make_lead(session, assignee_id=agent.id)
        service.on_signals(session, [make_signal(session, lead)])

    dry = cli("alerts", "rules", "dry-run", "--conditions", '{"signal_types": ["new_employment"]}')
    assert dry.exit_code == 0 and json.loads(dry.output)["matched"] == 1

    listed = cli("alerts", "list", "--as", "tail.agent")
    assert listed.exit_code == 0 and "1 alert(s)" in listed.output and lead.external_id in listed.output
    tail = cli("alerts", "tail", "--as", "tail.agent", "--from-start", "--count", "1")
    assert tail.exit_code == 0 and "alert.created" in tail.output
    with transaction() as session:
        alert_id = str(session.scalars(select(Alert.id)).one())
    read = cli("alerts", "read", alert_id, "--as", "tail.agent")  # the full id, dashes and all, on both databases
    assert read.exit_code == 0 and read.output.startswith("read: ")
    assert cli("alerts", "read", "zz", "--as", "tail.agent").exit_code == 1
    assert cli("alerts", "read-all", "--as", "tail.agent").output.startswith("0 alert(s) marked read")
    summary = json.loads(cli("alerts", "summary", "--as", "tail.agent").output)
    assert summary["unread"] == 0 and summary["total"] == 1
