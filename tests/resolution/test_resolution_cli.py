"""`upswing matches review | approve | reject` on a fresh database of each kind."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _profile(public_id: str, first: str, last: str, jobs: list[tuple[str, str, str]]) -> dict[str, Any]:
    return {"publicIdentifier": public_id, "linkedinUrl": f"https://www.linkedin.com/in/{public_id}",
            "firstName": first, "lastName": last, "scrapedAt": "2026-09-01T06:00:00Z",
            "location": {"linkedinText": "Columbus, Ohio, United States"},
            "experience": [{"position": t, "companyName": c,
                            "startDate": {"month": s.split()[0], "year": int(s.split()[1]), "text": s},
                            "endDate": {"text": "Present"}} for t, c, s in jobs]}


def test_review_approve_and_reject_from_the_command_line(cli: Callable[..., Any], tmp_path: Path) -> None:
    assert cli("db", "upgrade").exit_code == 0
    leads = tmp_path / "leads.csv"
    leads.write_text("external_id,first_name,last_name,city,state\n"
                     "C-1,Tanya,Okafor,Columbus,OH\nC-2,Omar,Haddad,Columbus,OH\n")
    assert cli("leads", "import", str(leads), "--portfolio", "cli").exit_code == 0
    export = tmp_path / "export.json"
    export.write_text(json.dumps([
        _profile("tanya-okafor-1", "Tanya", "Okafor", [("Pharmacy Technician", "CVS Health", "Aug 2026")]),
        _profile("omar-haddad-1", "Omar", "Haddad", [("Welder", "Ironworks", "Mar 2019")]),
    ]))
    ingested = cli("ingest", "apify", str(export))
    assert "0 linked, 2 unlinked (2 to review" in ingested.output, ingested.output

    listed = cli("matches", "review")
    assert listed.exit_code == 0 and "2 match(es) to review" in listed.output
    ids = dict(re.findall(r"([0-9a-f-]{36}) .*?(C-\d)", listed.output))
    by_lead = {lead: match_id for match_id, lead in ids.items()}
    assert set(by_lead) == {"C-1", "C-2"}, listed.output

    approved = cli("matches", "approve", by_lead["C-1"])
    assert approved.exit_code == 0 and "Approved" in approved.output
    assert "1 observation(s) linked; signals: 1 new" in approved.output
    rejected = cli("matches", "reject", by_lead["C-2"])
    assert rejected.exit_code == 0 and "Rejected" in rejected.output
    assert "0 match(es) to review" in cli("matches", "review").output

    again = cli("matches", "approve", by_lead["C-2"])
    assert again.exit_code == 1 and "not waiting for review" in again.output
    assert cli("matches", "approve", "not-an-id").exit_code == 1
    signals = cli("signals", "list", "--format", "jsonl")
    assert [json.loads(line)["lead_external_id"] for line in signals.output.splitlines()] == ["C-1"]
