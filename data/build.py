# ruff: noqa: E501, S311 - template strings read best on one line; seeded generators, not crypto
"""Build the templated and Wikipedia-derived parts of the training set (deterministic: seeded).

    .venv/bin/python data/build.py [--dev ../shared/data/signals-dev/signals_dev.jsonl]
                                   [--corpus ../shared/data/relation-extraction-corpus/20131104-education-degree.json]

Writes data/signals/train_templated.jsonl, data/signals/train_wikipedia.jsonl and
data/intent/train_templated.jsonl. The hand-written files (train_handwritten.jsonl, and the company
validation set data/intent/validation.jsonl) are sources, not generated; this script only checks them.
The dev set is read only to drop Wikipedia snippets that contain a dev text (so cross-validated figures
on the dev set never see a dev item through the corpus). See data/README.md for provenance.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from templates_company import company_examples  # noqa: E402
from templates_person import person_examples  # noqa: E402

PERSON_LABELS = {
    "new_employment", "promotion", "certification", "license_renewal", "award", "business_launch",
    "education", "job_loss", "none",
}  # fmt: skip
COMPANY_LABELS = {"growth", "expansion", "financial_distress", "loan_need", "consulting_need", "none"}

# --------------------------------------------------------------------------------------------------
# Wikipedia degree snippets (Google relation-extraction corpus, CC BY-SA)
# --------------------------------------------------------------------------------------------------

_MENTION = re.compile(r"\(\(NAM: (.*?)\)\)")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_DEGREE_CUE = re.compile(
    r"\b(received|earned|obtained|graduated|graduate|completed|awarded|holds|attended|studied|degree|"
    r"B\.?A\.?|B\.?S\.?|M\.?A\.?|M\.?S\.?|Ph\.?D|M\.?D\.?|J\.?D\.?|LL\.?B|LL\.?M|MBA|M\.B\.A|B\.?Sc|M\.?Sc|BFA|MFA|"
    r"Bachelor|Master|Doctor|doctorate)\b"
)
_ABBREVIATION_END = re.compile(r"\b(?:[A-Z][a-z]?|Mr|Mrs|Ms|Dr|St|Jr|Sr|Inc|Co|Ltd|[A-Z]\.[A-Z]|Ph\.D|U\.S)\.$")


def _normalize(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def _sentences(text: str) -> list[str]:
    parts: list[str] = []
    for piece in _SENTENCE.split(text):
        if parts and _ABBREVIATION_END.search(parts[-1]):
            parts[-1] += " " + piece
        else:
            parts.append(piece)
    return parts


def wikipedia_examples(corpus: Path, dev_texts: list[str], rng: random.Random, limit: int = 700) -> list[dict[str, str]]:
    """Trim each snippet to 1–3 sentences around the degree mention, as the dev set's curators did.

    ``education`` when a rater majority says the snippet states the degree; ``award`` when the mention is
    an honorary degree. Snippets that contain (or are contained in) a dev text are dropped.
    """
    dev_keys = [_normalize(text) for text in dev_texts]
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    for line in corpus.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        votes = Counter(judgment["judgment"] for judgment in record["judgments"])
        if votes["yes"] < 3:
            continue
        evidence = record["evidences"][0]
        snippet = evidence["snippet"]
        mention = _MENTION.search(snippet)
        if mention is None:
            continue
        honorary = "honorary" in mention.group(1).lower() or "honoris" in mention.group(1).lower()
        sentences = _sentences(snippet)
        index = next((i for i, s in enumerate(sentences) if "((NAM:" in s), None)
        if index is None:
            continue
        start = max(0, index - rng.choice([0, 0, 1, 1, 2]))
        end = min(len(sentences), index + 1 + rng.choice([0, 0, 1, 1]))
        text = _MENTION.sub(lambda m: m.group(1), " ".join(sentences[start:end])).strip()
        if not (40 <= len(text) <= 600) or not _DEGREE_CUE.search(text):
            continue
        key = _normalize(text)
        if key in seen or any(dev in key or key in dev for dev in dev_keys):
            continue
        seen.add(key)
        rows.append({"text": text, "label": "award" if honorary else "education",
                     "source": f"wikipedia:{evidence['url']}"})
    rng.shuffle(rows)
    # Keep every honorary-degree row (rare), and a sample of the ordinary ones.
    awards = [row for row in rows if row["label"] == "award"]
    degrees = [row for row in rows if row["label"] == "education"][: max(0, limit - len(awards))]
    return awards + degrees


# --------------------------------------------------------------------------------------------------
# Checks and output
# --------------------------------------------------------------------------------------------------


def check(path: Path, labels: set[str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        if not isinstance(row.get("text"), str) or not row["text"].strip():
            raise SystemExit(f"{path}: row {number}: empty text")
        if row.get("label") not in labels:
            raise SystemExit(f"{path}: row {number}: unknown label {row.get('label')!r}")
        counts[row["label"]] += 1
    return counts


def write(path: Path, rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def dedupe(rows: list[dict[str, str]], forbidden: set[str]) -> list[dict[str, str]]:
    seen = set(forbidden)
    kept = []
    for row in rows:
        key = _normalize(row["text"])
        if key not in seen:
            seen.add(key)
            kept.append(row)
    return kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dev", type=Path, default=HERE.parent.parent / "shared/data/signals-dev/signals_dev.jsonl")
    parser.add_argument(
        "--corpus", type=Path,
        default=HERE.parent.parent / "shared/data/relation-extraction-corpus/20131104-education-degree.json",
    )  # fmt: skip
    args = parser.parse_args()
    dev_texts = [json.loads(line)["text"] for line in args.dev.read_text().splitlines() if line.strip()]
    dev_keys = {_normalize(text) for text in dev_texts}

    generators: list[tuple[Path, Callable[[random.Random], list[dict[str, str]]], set[str]]] = [
        (HERE / "signals/train_templated.jsonl", person_examples, PERSON_LABELS),
        (HERE / "intent/train_templated.jsonl", company_examples, COMPANY_LABELS),
    ]
    for path, generate, labels in generators:
        rows = dedupe(generate(random.Random(20261122)), dev_keys)
        write(path, rows)
        print(f"{path.relative_to(HERE)}: {len(rows)} rows {dict(sorted(check(path, labels).items()))}")

    wiki = wikipedia_examples(args.corpus, dev_texts, random.Random(7))
    write(HERE / "signals/train_wikipedia.jsonl", wiki)
    print(f"signals/train_wikipedia.jsonl: {len(wiki)} rows {dict(Counter(r['label'] for r in wiki))}")

    for path, labels in [
        (HERE / "signals/train_handwritten.jsonl", PERSON_LABELS),
        (HERE / "intent/train_handwritten.jsonl", COMPANY_LABELS),
        (HERE / "intent/validation.jsonl", COMPANY_LABELS),
    ]:
        if path.exists():
            print(f"{path.relative_to(HERE)} (hand-written, checked): {dict(sorted(check(path, labels).items()))}")
    validation = HERE / "intent/validation.jsonl"
    if validation.exists():
        held_out = {_normalize(json.loads(line)["text"]) for line in validation.read_text().splitlines() if line.strip()}
        for path in (HERE / "intent/train_templated.jsonl", HERE / "intent/train_handwritten.jsonl"):
            if path.exists():
                lines = [line for line in path.read_text().splitlines() if line.strip()]
                overlap = [line for line in lines if _normalize(json.loads(line)["text"]) in held_out]
                if overlap:
                    raise SystemExit(f"{path}: {len(overlap)} rows also in the validation set")


if __name__ == "__main__":
    main()
