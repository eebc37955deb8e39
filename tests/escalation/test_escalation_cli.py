"""``upswing escalations …`` on both databases: a run, the list (table and JSON, as a user), policies, holidays and a
team's calendar, with errors that name the option."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from factories import make_lead, make_signal, make_team, make_user
from upswing.account.models import Role
from upswing.core.db import transaction, utcnow
from upswing.escalation.models import Holiday
from upswing.signal.models import Signal


def test_run_list_policies_holidays_and_calendar(cli: Callable[..., Any]) -> None:
    assert cli("db", "upgrade").exit_code == 0
    with transaction() as session:
        team = make_team(session, "night-shift")
        manager = make_user(session, Role.MANAGER, team=team, username="esc.manager")
        agent = make_user(session, Role.AGENT, team=team, username="esc.agent")
        make_user(session, Role.VIEWER, username="esc.viewer")
        lead = make_lead(session, assignee_id=agent.id, team_id=team.id)
        signal_id = make_signal(session, lead)
        # Ten days unacknowledged: past both urgent levels whatever the weekends and holidays.
        session.execute(update(Signal).where(Signal.id == signal_id).values(
            priority="urgent", detected_at=utcnow() - timedelta(days=10)))
        manager_name = manager.username

    ran = cli("escalations", "run")
    # Level 1 to the manager; level 2 finds no admin (there is none): audited, and counted.
    assert ran.exit_code == 0 and ran.output.startswith("2 escalation(s)"), ran.output
    assert cli("escalations", "run").output.startswith("0 escalation(s)")

    table = cli("escalations", "list", "--as", manager_name)
    assert table.exit_code == 0 and "1 escalation(s)" in table.output and lead.external_id in table.output
    listed = json.loads(cli("escalations", "list", "--json", "--as", "esc.agent").output)
    assert [(row["level"], row["username"], row["signal_id"]) for row in listed] == [
        (1, manager_name, str(signal_id))]
    assert json.loads(cli("escalations", "list", "--json", "--level", "2").output) == []
    viewer = cli("escalations", "list", "--as", "esc.viewer")
    assert viewer.exit_code == 1 and "viewers" in viewer.output
    assert cli("escalations", "list", "--since", "yesterday-ish").exit_code == 1
    signals = cli("signals", "list", "--escalated")
    assert signals.exit_code == 0 and "1 signal(s)" in signals.output

    policies = cli("escalations", "policies", "list")
    assert policies.exit_code == 0 and "business hour(s)" in policies.output
    changed = cli("escalations", "policies", "set", "urgent", "1", "--after", "3h", "--disable")
    assert changed.exit_code == 0, changed.output
    assert json.loads(changed.output)["delay_value"] == 3 and json.loads(changed.output)["enabled"] is False
    created = cli("escalations", "policies", "set", "medium", "1", "--after", "2d", "--to", "admin")
    assert json.loads(created.output)["delay_unit"] == "business_days"
    assert json.loads(created.output)["target"] == "admin"
    assert cli("escalations", "policies", "set", "low", "1").exit_code == 1  # a new one needs --after
    bad_after = cli("escalations", "policies", "set", "low", "1", "--after", "soon")
    assert bad_after.exit_code == 1 and "--after" in bad_after.output
    assert len(json.loads(cli("escalations", "policies", "list", "--json").output)) == 4

    added = cli("escalations", "holidays", "add", "2026-12-24", "Christmas Eve")
    assert added.exit_code == 0, added.output
    assert cli("escalations", "holidays", "add", "2026-12-28", "Retreat", "--team", "night-shift").exit_code == 0
    assert cli("escalations", "holidays", "add", "2026-12-24", "Again").exit_code == 1
    bad_day = cli("escalations", "holidays", "add", "2026-13-01", "Never")
    assert bad_day.exit_code == 1 and "day" in bad_day.output
    assert cli("escalations", "holidays", "add", "2026-12-29", "x", "--team", "no-such-team").exit_code == 1
    listed_days = cli("escalations", "holidays", "list")
    assert "2 holiday(s)" in listed_days.output and "(every team)" in listed_days.output
    with transaction() as session:
        holiday_id = str(session.scalars(select(Holiday.id).where(Holiday.name == "Christmas Eve")).one())
    assert cli("escalations", "holidays", "remove", holiday_id[:8]).output.startswith("removed")
    assert cli("escalations", "holidays", "remove", "zz").exit_code == 1

    shown = json.loads(cli("escalations", "calendar", "show", "--team", "night-shift").output)
    assert shown["own"] is False and shown["start"] == "09:00"
    saved = cli("escalations", "calendar", "set", "--team", "night-shift", "--timezone", "America/Denver",
                "--hours", "07:00-15:30", "--days", "mon-thu", "--country", "none")
    assert saved.exit_code == 0, saved.output
    calendar = json.loads(saved.output)
    assert (calendar["own"], calendar["timezone"], calendar["start"], calendar["end"], calendar["weekdays"],
            calendar["holiday_country"]) == (True, "America/Denver", "07:00", "15:30",
                                             ["mon", "tue", "wed", "thu"], None)
    kept = json.loads(cli("escalations", "calendar", "set", "--team", "night-shift", "--country", "CA").output)
    assert kept["timezone"] == "America/Denver" and kept["holiday_country"] == "CA"
    bad_zone = cli("escalations", "calendar", "set", "--team", "night-shift", "--timezone", "Mars/Olympus")
    assert bad_zone.exit_code == 1 and "timezone" in bad_zone.output
    bad_hours = cli("escalations", "calendar", "set", "--team", "night-shift", "--hours", "17:00-09:00")
    assert bad_hours.exit_code == 1 and "end" in bad_hours.output
    assert cli("escalations", "calendar", "set", "--team", "night-shift", "--days", "funday").exit_code == 1
    assert json.loads(cli("escalations", "calendar", "show").output)["team_id"] is None
