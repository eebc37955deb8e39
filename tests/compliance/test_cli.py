"""The ``upswing compliance`` contracts end to end on a fresh database of each kind (SQLite, PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

LEADS = ("external_id,first_name,last_name,phone,phone_type,email,address,city,state,postal_code,employer\n"
         "MA-1,Ann,Lee,617-555-0123,cell,ann@gmail.com,1 Main St,Cambridge,MA,02139,Acme Corp\n"
         "NY-1,Bob,Ray,212-555-0123,work,bob@acme.com,2 Broad St,New York,NY,10004,Acme\n"
         "UN-1,Cy,Doe,,,,,,,,\n"
         "HI-1,Dee,Kai,808-555-0123,home,,,Honolulu,HI,96813,\n")


def check(cli: Callable[..., Any], *args: str) -> dict[str, Any]:
    result = cli("compliance", "check", *args)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout  # one JSON object and nothing else on stdout
    decision = json.loads(lines[0])
    assert list(decision) == ["allowed", "reasons", "next_allowed_at"]
    assert isinstance(decision["allowed"], bool) and isinstance(decision["reasons"], list)
    assert decision["next_allowed_at"] is None or isinstance(decision["next_allowed_at"], str)
    return decision


def ok(result: Any) -> None:
    assert result.exit_code == 0, result.output


def test_compliance_contracts(cli: Callable[..., Any], tmp_path: Path) -> None:
    ok(cli("db", "upgrade"))
    (tmp_path / "leads.csv").write_text(LEADS)
    ok(cli("leads", "import", str(tmp_path / "leads.csv")))

    # Time window: unknown location → 11:00–21:00 Eastern; Hawaii; DST; --at without a zone is UTC.
    assert check(cli, "--lead", "UN-1", "--channel", "call", "--at", "2026-01-15T15:00:00Z") == {
        "allowed": False, "reasons": ["time_window"], "next_allowed_at": "2026-01-15T16:00:00+00:00"}
    assert check(cli, "--lead", "UN-1", "--channel", "letter", "--at", "2026-01-15T03:00:00") == {
        "allowed": True, "reasons": [], "next_allowed_at": "2026-01-15T03:00:00+00:00"}
    assert check(cli, "--lead", "HI-1", "--channel", "sms", "--at", "2026-07-15T17:59:00")["next_allowed_at"] == (
        "2026-07-15T18:00:00+00:00")
    assert check(cli, "--lead", "MA-1", "--channel", "email", "--at", "2026-03-08T02:30:00-05:00") == {
        "allowed": False, "reasons": ["time_window"], "next_allowed_at": "2026-03-08T12:00:00+00:00"}

    # Massachusetts: two calls/texts to personal numbers in 7 days.
    for at in ("2026-01-12T15:00:00Z", "2026-01-13T15:00:00Z"):
        ok(cli("compliance", "log-contact", "--lead", "MA-1", "--channel", "call", "--at", at,
               "--target", "617-555-0123"))
    assert check(cli, "--lead", "MA-1", "--channel", "call", "--at", "2026-01-14T15:00:00Z") == {
        "allowed": False, "reasons": ["state_ma_2in7"], "next_allowed_at": "2026-01-19T15:00:00+00:00"}

    # A conversation blocks calls for 7 days.
    ok(cli("compliance", "log-contact", "--lead", "HI-1", "--channel", "call", "--at", "2026-01-10T20:00:00Z",
           "--conversation"))
    assert check(cli, "--lead", "HI-1", "--channel", "call", "--at", "2026-01-12T20:00:00Z") == {
        "allowed": False, "reasons": ["after_conversation_7d"], "next_allowed_at": "2026-01-17T20:00:00+00:00"}

    # TCPA: consent, revoked, reassigned.
    autodialed = ("--lead", "MA-1", "--channel", "sms", "--at", "2026-02-02T15:00:00Z", "--autodialed")
    assert check(cli, *autodialed)["reasons"] == ["no_tcpa_consent"]
    ok(cli("compliance", "consent", "--lead", "MA-1", "--target", "+1 617 555 0123"))
    assert check(cli, *autodialed)["allowed"] is True
    ok(cli("compliance", "consent", "--lead", "MA-1", "--target", "6175550123", "--revoke"))
    assert check(cli, *autodialed) == {"allowed": False, "reasons": ["no_tcpa_consent"], "next_allowed_at": None}
    ok(cli("compliance", "consent", "--lead", "MA-1", "--target", "6175550123"))
    assert check(cli, *autodialed)["allowed"] is True
    ok(cli("compliance", "consent", "--lead", "MA-1", "--target", "6175550123", "--reassigned"))
    assert check(cli, *autodialed)["reasons"] == ["no_tcpa_consent"]

    # Workplace: a work-typed phone, an employer e-mail.
    assert check(cli, "--lead", "NY-1", "--channel", "call", "--at", "2026-02-02T15:00:00Z")["reasons"] == [
        "workplace"]
    assert check(cli, "--lead", "NY-1", "--channel", "email", "--at", "2026-02-02T15:00:00Z")["reasons"] == [
        "workplace"]

    # Flags, suppression, public social media.
    ok(cli("compliance", "flag", "--lead", "HI-1", "--set", "bankruptcy"))
    assert check(cli, "--lead", "HI-1", "--channel", "letter") == {
        "allowed": False, "reasons": ["bankruptcy"], "next_allowed_at": None}
    ok(cli("compliance", "flag", "--lead", "HI-1", "--set", "bankruptcy", "--clear"))
    assert check(cli, "--lead", "HI-1", "--channel", "letter")["allowed"] is True
    ok(cli("compliance", "suppress", "--target", "ANN@gmail.com"))
    assert check(cli, "--lead", "MA-1", "--channel", "email", "--at", "2026-02-02T15:00:00Z")["reasons"] == [
        "opted_out"]
    assert check(cli, "--lead", "UN-1", "--channel", "social_public")["reasons"] == ["public_social"]

    listed = cli("compliance", "contacts", "--lead", "MA-1")
    assert listed.exit_code == 0 and "2 contact(s)" in listed.stdout


def test_compliance_cli_errors(cli: Callable[..., Any], tmp_path: Path) -> None:
    ok(cli("db", "upgrade"))
    (tmp_path / "a.csv").write_text("external_id,first_name,last_name\nDUP,Ann,Lee\n")
    ok(cli("leads", "import", str(tmp_path / "a.csv"), "--portfolio", "book-a"))
    ok(cli("leads", "import", str(tmp_path / "a.csv"), "--portfolio", "book-b"))

    ambiguous = cli("compliance", "check", "--lead", "DUP", "--channel", "letter")
    assert ambiguous.exit_code == 1 and ambiguous.stdout == ""
    assert "--portfolio" in ambiguous.output
    assert check(cli, "--lead", "DUP", "--portfolio", "book-a", "--channel", "letter")["allowed"] is True
    missing = cli("compliance", "check", "--lead", "NOPE", "--channel", "call")
    assert missing.exit_code == 1 and "NOPE" in missing.output and missing.stdout == ""
    bad_time = cli("compliance", "log-contact", "--lead", "DUP", "--portfolio", "book-a", "--channel", "call",
                   "--at", "tomorrow")
    assert bad_time.exit_code == 1 and "ISO 8601" in bad_time.output

    (tmp_path / "contacts.csv").write_text("lead,channel,at\nDUP,call,2026-01-10T15:00:00Z\nDUP,fax,soon\n")
    failed = cli("compliance", "import-contacts", str(tmp_path / "contacts.csv"), "--portfolio", "book-a")
    assert failed.exit_code == 1
    assert "row 3, field 'channel'" in failed.output and "row 3, field 'at'" in failed.output
    (tmp_path / "contacts.csv").write_text("lead,channel,at\nDUP,call,2026-01-10T15:00:00Z\n")
    imported = cli("compliance", "import-contacts", str(tmp_path / "contacts.csv"), "--portfolio", "book-a")
    assert imported.exit_code == 0 and "1 contact(s) imported" in imported.output

    ok(cli("compliance", "set-rule", "window_end", "20:00"))
    shown = cli("compliance", "rules")
    assert shown.exit_code == 0 and json.loads(shown.stdout)["window_end"] == "20:00"
    assert cli("compliance", "set-rule", "window_end", "07:00").exit_code == 1
