"""``upswing tracking …`` against a fresh database of each kind: sites, profiles, the purge."""

from __future__ import annotations

from typing import Any


def test_cli_creates_and_lists_sites_shows_profiles_and_purges(cli: Any, tmp_path: Any) -> None:
    assert cli("db", "upgrade").exit_code == 0
    leads = tmp_path / "leads.csv"
    leads.write_text("external_id,first_name,last_name\nA-1,Ada,Lovelace\n")
    assert cli("leads", "import", str(leads)).exit_code == 0
    created = cli("tracking", "sites", "create", "portal", "--origin", "https://Portal.Example/")
    assert created.exit_code == 0, created.output
    assert "secret (shown once)" in created.output and 'data-site="us_' in created.output
    bad = cli("tracking", "sites", "create", "other", "--origin", "portal.example/path")
    assert bad.exit_code != 0 and "--origin" in bad.output
    listed = cli("tracking", "sites", "list")
    assert "https://portal.example" in listed.output and "1 site(s)" in listed.output
    assert "0 profile(s)" in cli("tracking", "profiles", "--lead", "A-1").output
    assert cli("tracking", "profiles", "--lead", "NOBODY").exit_code != 0
    purged = cli("tracking", "purge", "--dry-run")
    assert purged.exit_code == 0 and "would go" in purged.output
