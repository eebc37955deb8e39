"""``upswing sources …`` end to end on both databases, against the fake Apify server."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from factories import make_lead, make_portfolio
from pipeline.monitoring_support import new_job_profile, old_job_profile
from upswing.core.db import transaction
from upswing.fakes.apify import HARVEST_PROFILES, FakeApify
from upswing.observation.models import Observation
from upswing.signal.models import Signal
from upswing.source.models import Source

# The fakes listen on 127.0.0.1: allow-listed for the outbound guard, as a deployment allow-lists a host.
pytestmark = pytest.mark.usefixtures("allow_loopback")


def test_sources_run_apify_linkedin_creates_observations_and_signals(cli: Callable[..., Any]) -> None:
    assert cli("db", "upgrade").exit_code == 0
    with transaction() as session:
        portfolio = make_portfolio(session, "Spring book")
        dana = make_lead(session, portfolio, external_id="A-1", first_name="Dana", last_name="Whitfield",
                         linkedin_url="https://www.linkedin.com/in/dana-whitfield",
                         linkedin_public_id="dana-whitfield", balance=Decimal("25000.00"))
        make_lead(session, portfolio, external_id="A-2", first_name="Sam", last_name="Okafor",
                  linkedin_url="https://www.linkedin.com/in/sam-okafor", linkedin_public_id="sam-okafor",
                  balance=Decimal("800.00"))
        dana_id = dana.id

    fake = FakeApify(token="apify_api_cli_token")
    with fake as base_url:
        fake.add_profiles(HARVEST_PROFILES, [old_job_profile("dana-whitfield"),
                                             new_job_profile("sam-okafor", first="Sam", last="Okafor")])
        unconfigured = cli("sources", "run", "apify-linkedin")
        assert unconfigured.exit_code == 1 and "--enable" in unconfigured.output

        configured = cli("sources", "configure", "apify-linkedin", "--set", f"token={fake.token}",
                         "--set", f"base_url={base_url}", "--enable", "--budget", "10",
                         "--legal-basis", "Legitimate interest: recovering a debt")
        assert configured.exit_code == 0, configured.output
        assert fake.token not in configured.output and "secrets set: token" in configured.output

        first = cli("sources", "run", "apify-linkedin")
        assert first.exit_code == 0, first.output
        assert "2 target(s), 2 item(s): 2 new observations" in first.output
        assert "signals: 1 new" in first.output  # Sam started a new job this month

        # Dana's profile changes; an operator fetches her now although she is not due.
        fake.add_profiles(HARVEST_PROFILES, [new_job_profile("dana-whitfield")])
        second = cli("sources", "run", "apify-linkedin", "--lead", "A-1")
        assert second.exit_code == 0, second.output
        assert "1 target(s), 1 item(s): 1 new observations" in second.output and "signals: 1 new" in second.output

        nothing_due = cli("sources", "run", "apify-linkedin")
        assert "0 target(s)" in nothing_due.output
        scraped = [q for r in fake.requests_to("run-sync") for q in (r.json() or {}).get("queries", [])]
        assert len(scraped) == 3  # two leads, then Dana once more

        listing = cli("sources", "list")
        assert listing.exit_code == 0
        row = next(line for line in listing.output.splitlines() if line.strip("│ ").startswith("apify-linkedin "))
        assert "ok" in row and "linkedin-profiles 3/10" in row

        checked = cli("sources", "check", "apify-linkedin")
        assert checked.exit_code == 0 and "ok" in checked.output

    with transaction() as session:
        assert session.scalar(select(func.count()).select_from(Observation)) == 3
        signals = session.scalars(select(Signal).order_by(Signal.created_at)).all()
        assert len(signals) == 2
        assert {s.type for s in signals} == {"new_employment"}
        assert any(s.lead_id == dana_id and s.organization == "Keller & Price LLP" for s in signals)
        source = session.scalar(select(Source).where(Source.slug == "apify-linkedin"))
        assert source is not None and source.state == "ok" and source.last_success_at is not None
        assert fake.token not in str(source.config) and fake.token not in (source.secrets or "")


def test_sources_configure_reports_bad_settings_by_name(cli: Callable[..., Any]) -> None:
    assert cli("db", "upgrade").exit_code == 0
    unknown = cli("sources", "configure", "apify-linkedin", "--set", "tokn=x")
    assert unknown.exit_code == 1 and "no setting(s) tokn" in unknown.output
    bad = cli("sources", "configure", "apify-linkedin", "--set", "base_url=ftp://x")
    assert bad.exit_code == 1 and "base_url" in bad.output and "http://" in bad.output
    not_ready = cli("sources", "configure", "apify-linkedin", "--enable")
    assert not_ready.exit_code == 1 and "token is required" in not_ready.output
    missing = cli("sources", "show", "no-such-source")
    assert missing.exit_code == 1 and "no source 'no-such-source'" in missing.output
    no_lead = cli("sources", "run", "apify-linkedin", "--lead", "NOPE")
    assert no_lead.exit_code == 1 and "no lead with external id 'NOPE'" in no_lead.output
