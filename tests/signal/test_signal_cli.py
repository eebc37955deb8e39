"""``upswing signals``: the id column and id prefixes, the API's filters and order, and a user's scope (--as),
on a fresh database of each kind."""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, get_args

import pytest
from sqlalchemy import update

from factories import make_lead, make_portfolio, make_signal, make_team, make_user
from upswing.account.models import Role
from upswing.core.db import transaction
from upswing.detection.events import SignalType
from upswing.signal import cli as signal_cli
from upswing.signal.models import DismissReason, Priority, Signal, SignalAction, SignalOutcome, SignalStatus
from upswing.signal.schemas import SignalFilters

CONTRACT_FIELDS = {"id", "lead_external_id", "lead_name", "type", "title", "organization", "effective_date",
                   "detected_at", "confidence", "evidence_url", "evidence_snippet", "status", "score", "priority",
                   "score_breakdown", "evidence"}
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@dataclass
class World:
    ids: dict[str, uuid.UUID]  # name → signal id


def _set(signal_id: uuid.UUID, **values: Any) -> None:
    with transaction() as session:
        session.execute(update(Signal).where(Signal.id == signal_id).values(**values))


@pytest.fixture
def world(cli: Callable[..., Any]) -> World:
    """Users admin, agent.east (team East) and agent.west; four signals on East's and West's leads."""
    assert cli("db", "upgrade").exit_code == 0
    with transaction() as session:
        east, west = make_team(session, "East"), make_team(session, "West")
        make_user(session, Role.ADMIN, username="admin")
        agent_east = make_user(session, Role.AGENT, team=east, username="agent.east")
        agent_west = make_user(session, Role.AGENT, team=west, username="agent.west")
        portfolio = make_portfolio(session)
        ann = make_lead(session, portfolio, external_id="E-1", first_name="Ann", last_name="East",
                        assignee_id=agent_east.id, team_id=east.id)
        bob = make_lead(session, portfolio, external_id="E-2", first_name="Bob", last_name="East", team_id=east.id)
        wes = make_lead(session, portfolio, external_id="W-1", first_name="Wes", last_name="West",
                        assignee_id=agent_west.id, team_id=west.id)
        ids = {
            "ann_job": make_signal(session, ann, SignalType.NEW_EMPLOYMENT, title="Nurse", organization="Mercy"),
            "ann_cert": make_signal(session, ann, SignalType.CERTIFICATION, title="CPhT", organization="PTCB"),
            "bob_promo": make_signal(session, bob, SignalType.PROMOTION, title="Lead", organization="Target"),
            "wes_loss": make_signal(session, wes, SignalType.JOB_LOSS, title="Clerk", organization="Ikea"),
        }
    # Detected a day apart, oldest first in this order; priorities and one status set as a scorer/agent would.
    for days, (name, priority) in enumerate([("ann_job", "urgent"), ("ann_cert", "medium"),
                                             ("bob_promo", "high"), ("wes_loss", "urgent")]):
        _set(ids[name], detected_at=T0 + timedelta(days=days), priority=priority)
    _set(ids["ann_cert"], status=SignalStatus.DISMISSED.value, dismiss_reason=DismissReason.NOT_RELEVANT.value)
    return World(ids)


def _jsonl(cli: Callable[..., Any], *args: str) -> list[dict[str, Any]]:
    result = cli("signals", "list", "--format", "jsonl", *args)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def _listed(cli: Callable[..., Any], world: World, *args: str) -> list[str]:
    names = {str(signal_id): name for name, signal_id in world.ids.items()}
    return [names[line["id"]] for line in _jsonl(cli, *args)]


def test_list_is_newest_first_with_an_id_column_and_the_jsonl_contract_unchanged(cli: Callable[..., Any],
                                                                                   world: World) -> None:
    lines = _jsonl(cli)
    assert [line["id"] for line in lines] == [str(world.ids[n]) for n in ("wes_loss", "bob_promo", "ann_cert",
                                                                         "ann_job")]
    assert all(set(line) == CONTRACT_FIELDS for line in lines)
    assert [line["detected_at"] for line in lines] == [(T0 + timedelta(days=d)).isoformat() for d in (3, 2, 1, 0)]

    table = cli("signals", "list").output
    rows = [row for row in table.splitlines() if "E-1" in row or "E-2" in row or "W-1" in row]
    assert [row.split("│")[1].strip() for row in rows] == [world.ids[n].hex[:8] for n in ("wes_loss", "bob_promo",
                                                                                          "ann_cert", "ann_job")]
    by_score = _listed(cli, world, "--by-score")
    assert sorted(by_score) == sorted(world.ids)


def test_commands_take_an_id_or_a_unique_prefix(cli: Callable[..., Any], world: World, us_daytime: Any) -> None:
    job = world.ids["ann_job"]
    shown = cli("signals", "show", job.hex[:8])
    assert shown.exit_code == 0 and f'"id": "{job}"' in shown.output
    for given in (str(job), str(job)[:13].upper(), job.hex[:10]):  # full, dashed and upper case, longer
        assert f'"id": "{job}"' in cli("signals", "show", given).output
    acked = cli("signals", "ack", job.hex[:8], "--as", "admin")
    assert acked.exit_code == 0 and f"signal {job}: acknowledged" in acked.output
    acted = cli("signals", "action", job.hex[:8], "call", "--as", "agent.east", "--note", "left a message")
    assert acted.exit_code == 0 and "actioned (call)" in acted.output
    resolved = cli("signals", "outcome", job.hex[:9], "promise_to_pay", "--as", "agent.east")
    assert resolved.exit_code == 0 and "resolved (promise_to_pay)" in resolved.output
    promo = world.ids["bob_promo"]
    dismissed = cli("signals", "dismiss", promo.hex[:8], "duplicate", "--as", "admin")
    assert dismissed.exit_code == 0 and f"signal {promo}: dismissed (duplicate)" in dismissed.output
    assert _jsonl(cli, "--status", "resolved")[0]["id"] == str(job)


def test_an_unknown_ambiguous_or_malformed_id_is_a_clear_error(cli: Callable[..., Any], world: World) -> None:
    with transaction() as session:
        lead = make_lead(session)
        extra = [make_signal(session, lead, title=f"Role {n}", organization=f"Org {n}") for n in range(13)]
    hexes = sorted(s.hex for s in [*world.ids.values(), *extra])  # 17 ids, 16 hex digits: two share the first
    shared = next(a[0] for a, b in itertools.pairwise(hexes) if a[0] == b[0])
    ambiguous = cli("signals", "show", shared)
    assert ambiguous.exit_code == 1
    assert f"the id prefix '{shared}' is ambiguous" in ambiguous.output and "give more characters" in ambiguous.output
    unknown_prefix = next(p for p in (f"{n:04x}" for n in range(65536)) if not any(h.startswith(p) for h in hexes))
    unknown = cli("signals", "ack", unknown_prefix, "--as", "admin")
    assert unknown.exit_code == 1 and f"no signal id starts with '{unknown_prefix}'" in unknown.output
    missing = uuid.uuid4()
    assert f"no signal with id '{missing}'" in cli("signals", "show", str(missing)).output
    malformed = cli("signals", "show", "not-an-id")
    assert malformed.exit_code == 1 and "is not a signal id" in malformed.output


def test_list_takes_the_apis_filters(cli: Callable[..., Any], world: World) -> None:
    assert _listed(cli, world, "--type", "promotion") == ["bob_promo"]
    assert _listed(cli, world, "--status", "dismissed") == ["ann_cert"]
    assert _listed(cli, world, "--priority", "urgent") == ["wes_loss", "ann_job"]
    assert _listed(cli, world, "--lead", "E-1") == ["ann_cert", "ann_job"]
    window = ("--since", (T0 + timedelta(days=1)).isoformat(), "--until", (T0 + timedelta(days=3)).isoformat())
    assert _listed(cli, world, *window) == ["bob_promo", "ann_cert"]
    assert _listed(cli, world, "--type", "new_employment", "--status", "new", "--priority", "urgent") == ["ann_job"]
    wrong = cli("signals", "list", "--priority", "critical")
    assert wrong.exit_code != 0 and "critical" in wrong.output
    bad_until = cli("signals", "list", "--until", "soon")
    assert bad_until.exit_code == 1 and "--until" in bad_until.output


def test_list_and_commands_keep_to_what_the_user_may_see(cli: Callable[..., Any], world: World) -> None:
    assert _listed(cli, world, "--as", "admin") == ["wes_loss", "bob_promo", "ann_cert", "ann_job"]
    assert _listed(cli, world, "--as", "agent.east") == ["bob_promo", "ann_cert", "ann_job"]  # own and team leads
    assert _listed(cli, world, "--as", "agent.west") == ["wes_loss"]
    assert _listed(cli, world, "--as", "agent.west", "--priority", "urgent") == ["wes_loss"]
    table = cli("signals", "list", "--as", "agent.west").output
    assert "1 signal(s)" in table and "Ann East" not in table
    hidden = world.ids["ann_job"].hex[:8]
    assert f"no signal id starts with '{hidden}'" in cli("signals", "show", hidden, "--as", "agent.west").output
    refused = cli("signals", "ack", hidden, "--as", "agent.west")
    assert refused.exit_code == 1 and "no signal id starts with" in refused.output
    assert cli("signals", "list", "--as", "nobody").exit_code == 1


def test_assignee_and_event_dates_reach_the_service(cli: Callable[..., Any], world: World,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from upswing.signal import service

    seen: list[tuple[SignalFilters, str | None]] = []
    real = service.page_signals

    def spy(session: Any, filters: SignalFilters, *, user: Any) -> Any:
        seen.append((filters, user.username if user is not None else None))
        return real(session, filters, user=user)

    monkeypatch.setattr(service, "page_signals", spy)
    assert cli("signals", "list", "--assignee", "none", "--effective-from", "2026-10-01",
               "--effective-to", "2026-10-31").exit_code == 0
    filters, username = seen[-1]
    assert (filters.assignee, filters.effective_from, filters.effective_to, username) == (
        "none", date(2026, 10, 1), date(2026, 10, 31), None)
    assert cli("signals", "list", "--assignee", "me", "--as", "agent.east").exit_code == 0
    assert (seen[-1][0].assignee, seen[-1][1]) == ("me", "agent.east")
    assert cli("signals", "list", "--assignee", "agent.west").exit_code == 0
    assert seen[-1][0].assignee == "agent.west"

    calls = len(seen)
    needs_user = cli("signals", "list", "--assignee", "me")
    assert needs_user.exit_code == 1 and "--assignee me needs --as USER" in needs_user.output
    bad_date = cli("signals", "list", "--effective-from", "October")
    assert bad_date.exit_code == 1 and "--effective-from" in bad_date.output
    assert len(seen) == calls  # refused before any query


def test_every_page_is_listed(cli: Callable[..., Any], world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(signal_cli, "_PAGE", 1)
    assert _listed(cli, world) == ["wes_loss", "bob_promo", "ann_cert", "ann_job"]


def test_short_ids_grow_until_listed_ids_differ() -> None:
    a = uuid.UUID("0123456789ab4def8123456789abcdef")
    b = uuid.UUID("0123456789ab4def8123456789abcdee")
    c = uuid.UUID("fedcba98765443218123456789abcdef")
    assert signal_cli.short_ids([c]) == ["fedcba98"]
    assert signal_cli.short_ids([a, c, b]) == [a.hex, c.hex, b.hex]
    assert signal_cli.short_ids([uuid.UUID("0123456700000000800000000000000a"), c]) == ["01234567", "fedcba98"]
    assert signal_cli.short_ids([uuid.UUID("0123456700000000800000000000000a"),
                                 uuid.UUID("0123456710000000800000000000000a")]) == ["012345670", "012345671"]


@pytest.mark.parametrize(("choice", "enum"), [
    (signal_cli.StatusChoice, SignalStatus), (signal_cli.PriorityChoice, Priority),
    (signal_cli.ActionChoice, SignalAction), (signal_cli.OutcomeChoice, SignalOutcome),
    (signal_cli.DismissChoice, DismissReason),
])
def test_option_choices_are_the_enums_values(choice: Any, enum: Any) -> None:
    assert get_args(choice) == tuple(member.value for member in enum)


def test_a_call_the_guard_refuses_exits_1_and_writes_nothing(cli: Callable[..., Any], world: World,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # 08:00 UTC: the middle of the night in every US time zone.
    monkeypatch.setattr("upswing.casework.service.utcnow", lambda: datetime(2026, 12, 8, 8, 0, tzinfo=UTC))
    job = world.ids["ann_job"]
    refused = cli("signals", "action", job.hex[:8], "call", "--as", "agent.east")
    assert refused.exit_code == 1
    assert "not allowed now: time_window" in refused.output and "next allowed at" in refused.output
    assert json.loads(cli("signals", "show", str(job)).output)["status"] == "new"
    task = cli("signals", "action", job.hex[:8], "crm_task", "--as", "agent.east")  # not a contact
    assert task.exit_code == 0
