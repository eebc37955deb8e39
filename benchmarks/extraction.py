"""Extraction accuracy: job title and organization against the hand labels of the signals dev set.

For every new_employment / promotion item, the extractor runs with the item's labelled type (so the figure
measures extraction alone, not the classifier) and its title and organization are compared with the
labelled ones, ignoring case and punctuation. The headline figure counts, over the items that have a
labelled title or organization, the labelled fields that match (``fields_match_pct``); per field and per
item figures, and a strict one where an extracted value for a field labelled null also counts as a miss,
are printed too. The extractor is rule-based and was not fitted on these items' answers; ``--show`` prints
every miss.

    python benchmarks/extraction.py [--data PATH] [--show]

Last line: one JSON object with fields_match_pct, title_match_pct, organization_match_pct, items_match_pct,
strict_items_match_pct, items, us_per_text.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

from upswing.detection.extraction import extract_role

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "signals-dev" / "signals_dev.jsonl"
_NON_WORD = re.compile(r"[\W_]+")


def normalize(value: str | None) -> str:
    return " ".join(_NON_WORD.sub(" ", value.casefold()).split()) if value else ""


def evaluate(rows: list[dict[str, Any]], *, show: bool = False) -> dict[str, Any]:
    labelled = [r for r in rows if r["label"] in ("new_employment", "promotion") and (r["title"] or r["organization"])]
    fields = hits = titles = title_hits = orgs = org_hits = items_ok = strict_ok = 0
    started = time.perf_counter()
    roles = [extract_role(r["text"], r["label"]) for r in labelled]
    elapsed = time.perf_counter() - started
    for row, role in zip(labelled, roles, strict=True):
        ok = True
        strict = True
        for name, got in (("title", role.title), ("organization", role.organization)):
            gold = row[name]
            same = normalize(got) == normalize(gold)
            if gold:
                fields += 1
                hits += same
                if name == "title":
                    titles, title_hits = titles + 1, title_hits + same
                else:
                    orgs, org_hits = orgs + 1, org_hits + same
                ok = ok and same
            strict = strict and same
            if show and not same and (gold or got):
                print(f"{row['id']} {row['label']:<15} {name:<12} expected {gold!r:<45} got {got!r}")
        items_ok += ok
        strict_ok += strict
    return {
        "fields_match_pct": round(100 * hits / fields, 1),
        "title_match_pct": round(100 * title_hits / titles, 1),
        "organization_match_pct": round(100 * org_hits / orgs, 1),
        "items_match_pct": round(100 * items_ok / len(labelled), 1),
        "strict_items_match_pct": round(100 * strict_ok / len(labelled), 1),
        "items": len(labelled), "fields": fields, "fields_matched": hits, "titles": titles, "organizations": orgs,
        "us_per_text": round(1e6 * elapsed / len(labelled), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="signals_dev.jsonl")
    parser.add_argument("--show", action="store_true", help="print every mismatch")
    args = parser.parse_args(argv)
    if not args.data.exists():
        print(f"no data at {args.data}", file=sys.stderr)
        return 2
    rows = [json.loads(line) for line in args.data.read_text(encoding="utf-8").splitlines() if line.strip()]
    result = evaluate(rows, show=args.show)
    print(f"{result['items']} items with a labelled title or organization, {result['fields']} labelled fields: "
          f"{result['fields_matched']} match ({result['fields_match_pct']}%); titles {result['title_match_pct']}% "
          f"of {result['titles']}, organizations {result['organization_match_pct']}% of {result['organizations']}; "
          f"items with every labelled field right {result['items_match_pct']}%, strict (nulls too) "
          f"{result['strict_items_match_pct']}%")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
