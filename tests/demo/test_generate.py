"""The demo generator: deterministic, well-formed, and its ground truth matches what the items show."""

from __future__ import annotations

import csv
import itertools
import json
import re
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import phonenumbers
import pytest

from upswing.demo.generate import (
    DEFAULT_DATA_DIR,
    LEAD_COLUMNS,
    SIGNAL_KINDS,
    DemoPortfolio,
    generate_portfolio,
    iter_snapshot_items,
    main,
    write_demo,
)

POSITION_KINDS = {"new_employment", "promotion", "title_change", "business_launch", "job_loss"}
MONTHS = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
                                      "Nov", "Dec"), 1)}  # fmt: skip


@pytest.fixture(scope="module")
def portfolio() -> DemoPortfolio:
    return generate_portfolio(1000, seed=11)


def _slug(item: dict[str, Any]) -> str:
    return str(item["basic_info"]["public_identifier"] if "basic_info" in item else item["publicIdentifier"])


def _ym(d: dict[str, Any] | None) -> str | None:
    if not d or "year" not in d:
        return None
    return f"{d['year']}-{MONTHS[d['month']]:02d}" if d.get("month") else str(d["year"])


def _positions(item: dict[str, Any]) -> set[tuple[str, str, str | None, str | None]]:
    """(title, company, start, end) per experience entry, whatever the Actor; whitespace/case folded."""

    def fold(text: str) -> str:
        return " ".join(text.split()).lower()

    if "basic_info" in item:
        return {(fold(e["title"]), fold(e["company"]), _ym(e["start_date"]), _ym(e.get("end_date")))
                for e in item["experience"]}  # fmt: skip
    if "experiences" in item:
        return {(fold(e["title"]), fold(e["companyName"]), e["jobStartedOn"], e["jobEndedOn"])
                for e in item["experiences"]}  # fmt: skip
    return {(fold(e["position"]), fold(e["companyName"]), _ym(e["startDate"]), _ym(e["endDate"]))
            for e in item["experience"]}  # fmt: skip


def test_same_seed_same_output() -> None:
    a, b = generate_portfolio(150, seed=3), generate_portfolio(150, seed=3)
    assert a.leads == b.leads and a.expected_changes == b.expected_changes
    assert [e.items for e in a.exports] == [e.items for e in b.exports]
    assert generate_portfolio(150, seed=4).leads != a.leads


def test_leads_are_plausible(portfolio: DemoPortfolio) -> None:
    leads = portfolio.leads
    assert len(leads) == 1000 and all(tuple(lead) == LEAD_COLUMNS for lead in leads)
    assert len({lead["email"] for lead in leads}) == len(leads)
    for lead in leads:
        assert phonenumbers.is_valid_number(phonenumbers.parse(lead["phone"], "US")), lead["phone"]
        assert re.fullmatch(r"[a-z0-9._+-]+@[a-z0-9.-]+\.[a-z]{2,}", lead["email"])
        assert re.fullmatch(r"[A-Z]{2}", lead["state"]) and lead["country"] == "US"
        assert 2_000 <= float(lead["balance"]) <= 90_000 and 90 <= int(lead["days_delinquent"]) <= 720
        assert lead["phone_type"] in {"cell", "home", "work"}
        assert lead["assignee"] in {"agent.alvarez", "agent.chen", "agent.okafor", ""}
    with_url = [lead["linkedin_url"] for lead in leads if lead["linkedin_url"]]
    assert 0.8 < len(with_url) / len(leads) < 0.9
    assert all("linkedin.com/in/" in url.lower() for url in with_url)
    assert any(url.endswith("/") for url in with_url) and any("://linkedin.com" in url for url in with_url)
    assert portfolio.namesakes and portfolio.email_linked and portfolio.unlinked


def test_items_have_each_actor_shape_and_a_scrape_time(portfolio: DemoPortfolio) -> None:
    assert [e.actor for e in portfolio.exports] == ["harvestapi", "harvestapi", "dev_fusion", "apimaestro"]
    assert [e.filename for e in portfolio.exports] == [
        "apify-harvestapi-2026-09-01.json",
        "apify-harvestapi-2026-10-01.jsonl",
        "apify-dev_fusion-2026-11-01.json",
        "apify-apimaestro-2026-11-03.json",
    ]
    key = {"harvestapi": "experience", "dev_fusion": "experiences", "apimaestro": "basic_info"}
    for export in portfolio.exports:
        assert export.items
        for item in export.items:
            assert key[export.actor] in item
            scraped = datetime.fromisoformat(item["scrapedAt"].replace("Z", "+00:00"))
            assert export.observed_at <= scraped < export.observed_at.replace(hour=23)
    first = portfolio.exports[0].items
    assert sum(1 for e in portfolio.exports[2:] for _ in e.items) == len(first)
    current = [e for item in first for e in item["experience"] if e["endDate"] == {"text": "Present"}]
    month_year = re.compile(r"[A-Z][a-z]{2} \d{4}|\d{4}")
    assert current and all(month_year.fullmatch(e["startDate"]["text"]) for e in current)


def test_ground_truth_matches_the_items(portfolio: DemoPortfolio) -> None:
    snapshots: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
    for index, export in enumerate(portfolio.exports):
        for item in export.items:
            snapshots[_slug(item)][index] = item
    changes = defaultdict(set)
    for change in portfolio.expected_changes:
        changes[(change.external_id, change.export_index)].add(change.kind)

    kinds = {c.kind for c in portfolio.expected_changes}
    assert kinds >= SIGNAL_KINDS and "title_change" in kinds
    assert any(c.export_index == 0 for c in portfolio.expected_changes)
    changed = {c.external_id for c in portfolio.expected_changes if c.export_index > 0}
    assert 0.33 <= len(changed) / len(portfolio.lead_profiles) <= 0.47

    for external_id, slug in portfolio.lead_profiles.items():
        by_export = snapshots[slug]
        rounds = sorted(by_export)
        assert rounds[:2] == [0, 1] and len(rounds) == 3
        for before, after in itertools.pairwise(rounds):
            kinds_here = changes.get((external_id, after), set())
            moved = _positions(by_export[before]) != _positions(by_export[after])
            if not kinds_here & POSITION_KINDS:
                # Noise, a reordering or an Actor switch never shows as a change of position.
                assert not moved, (external_id, after)
            else:
                assert moved, (external_id, after, kinds_here)


def test_streaming_gives_the_same_items() -> None:
    portfolio = generate_portfolio(80, seed=5)
    streamed = list(iter_snapshot_items(80, seed=5))
    assert len(streamed) == sum(len(e.items) for e in portfolio.exports)

    def strip(item: dict[str, Any]) -> str:
        return json.dumps({k: v for k, v in item.items() if k != "scrapedAt"}, sort_keys=True)

    for index, export in enumerate(portfolio.exports):
        assert sorted(strip(i) for i in export.items) == sorted(
            strip(s.item) for s in streamed if s.export_index == index
        )


def test_compact_mode_keeps_identities_apart() -> None:
    portfolio = generate_portfolio(600, seed=2, compact=True)
    for export in portfolio.exports:
        slugs = [_slug(item) for item in export.items]
        assert len(slugs) == len(set(slugs))
    assert len(set(portfolio.lead_profiles.values())) == len(portfolio.lead_profiles)
    assert {c.kind for c in portfolio.expected_changes} >= {"new_employment", "promotion", "job_loss"}


def test_write_demo_and_cli(tmp_path: Path) -> None:
    paths = write_demo(tmp_path / "a", n_leads=40, seed=9)
    assert paths[0].name == "leads.csv" and len(paths) == 5
    with paths[0].open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 40 and tuple(rows[0]) == LEAD_COLUMNS
    for path in paths[1:]:
        text = path.read_text(encoding="utf-8")
        jsonl = path.suffix == ".jsonl"
        items = [json.loads(line) for line in text.splitlines()] if jsonl else json.loads(text)
        assert items and all("scrapedAt" in item for item in items)
    assert main([str(tmp_path / "b"), "--leads", "40", "--seed", "9"]) == 0
    assert [p.read_bytes() for p in paths] == [(tmp_path / "b" / p.name).read_bytes() for p in paths]


def test_bundled_demo_is_current(tmp_path: Path) -> None:
    """The files in upswing/demo/data are what the generator writes now (rerun it after a change)."""
    paths = write_demo(tmp_path, n_leads=300, seed=7)
    bundled = sorted(p.name for p in DEFAULT_DATA_DIR.iterdir() if p.is_file())
    assert bundled == sorted(p.name for p in paths)
    for path in paths:
        assert (DEFAULT_DATA_DIR / path.name).read_bytes() == path.read_bytes(), path.name
