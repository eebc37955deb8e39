"""``upswing discover …`` and ``upswing leads enrich`` end to end on a fresh database of each kind, against the fake
search engine and web (the progress bar, the run's summary, the review)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from discovery.support import fake_internet

pytestmark = pytest.mark.usefixtures("allow_loopback")


def test_discover_run_status_prospects_review(cli: Callable[..., Any]) -> None:
    assert cli("db", "upgrade").exit_code == 0
    with fake_internet() as internet:
        configured = cli("sources", "configure", "company-domain", "--set", "google_api_key=google-test-key",
                         "--set", "google_cx=test-engine", "--set", f"google_base_url={internet.google.url}",
                         "--set", "provider=google", "--enable")
        assert configured.exit_code == 0, configured.output
        bad = cli("discover", "run", "--area", "Austin, TX", "--category", "lottery")
        assert bad.exit_code == 1 and "category" in bad.output

        ran = cli("discover", "run", "--area", "Austin, TX", "--radius-km", "30", "--category", "loan")
        assert ran.exit_code == 0, ran.output
        assert "Companies looked at" in ran.output  # the progress bar
        assert re.search(r"done — found 4, fetched 3, classified 3, prospects created 1", ran.output), ran.output
        assert "robots.txt disallows" in ran.output
        run_id = re.search(r"Discovery run ([0-9a-f-]{36}) queued", ran.output)
        assert run_id is not None

    status = cli("discover", "status", run_id.group(1)[:8])
    assert status.exit_code == 0 and "done" in status.output and "discovery-pages 3" in status.output
    listed = cli("discover", "prospects")
    assert listed.exit_code == 0 and "Acme Tools" in listed.output and "loan_need" in listed.output
    prospect_id = re.search(r"([0-9a-f-]{36}) +│? *Acme Tools", listed.output)
    assert prospect_id is not None, listed.output
    reviewed = cli("discover", "review", prospect_id.group(1)[:8], "approve", "--note", "checked")
    assert reviewed.exit_code == 0 and "Acme Tools: approved" in reviewed.output
    assert "Acme Tools" not in cli("discover", "prospects").output
    assert "Acme Tools" in cli("discover", "prospects", "--state", "approved").output
    assert "Acme Tools" in cli("leads", "list").output

    enriched = cli("leads", "enrich", prospect_id.group(1)[:8])
    assert enriched.exit_code == 0, enriched.output
    assert "firecrawl-about: not run (disabled)" in enriched.output
