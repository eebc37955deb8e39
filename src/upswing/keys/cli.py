"""``upswing keys …``: encryption key management (the procedure is in docs/security.md).

1. ``upswing keys generate`` prints a new key; put it FIRST in ``UPSWING_ENCRYPTION_KEYS``, keep the old ones.
2. ``upswing keys rotate`` re-encrypts every stored value with it (resumable: run it again after a stop).
3. ``upswing keys status`` shows no value left under an old key: drop that key from the setting.
"""

from __future__ import annotations

import base64
import json
import os
from datetime import UTC, datetime
from typing import Any

import typer

from upswing.audit.service import record
from upswing.core.cli_support import cli_actor, console, err_console, fail, progress_bar
from upswing.core.crypto import KeyRing, get_key_ring, new_key_spec
from upswing.core.db import transaction
from upswing.keys import service as key_rotation

keys_app = typer.Typer(help="Encryption keys for PII at rest.", no_args_is_help=True)


@keys_app.command("generate")
def generate(key_id: str | None = typer.Option(None, "--id", help="Key id (default: k<YYYYMMDDHHMM>)"),
             blind_index: bool = typer.Option(False, "--blind-index",
                                              help="Print a blind-index key (UPSWING_BLIND_INDEX_KEY)")) -> None:
    """Print a new random key (32 bytes, base64) on stdout; how to use it goes to stderr."""
    if blind_index:
        console.print(base64.b64encode(os.urandom(32)).decode(), soft_wrap=True)
        err_console.print("Set it as UPSWING_BLIND_INDEX_KEY, then run `upswing keys rotate --reindex` "
                          "(look-ups by e-mail or phone miss until it finishes).")
        return
    try:
        spec = new_key_spec(key_id or f"k{datetime.now(UTC):%Y%m%d%H%M}")
    except ValueError as exc:
        fail(str(exc))
    console.print(spec, soft_wrap=True)
    ring = get_key_ring()
    current = "" if ring.derived else ",<the keys you have now>"
    err_console.print(f"Put it first: UPSWING_ENCRYPTION_KEYS={spec.split(':')[0]}:…{current}, restart, then run "
                      "`upswing keys rotate`; drop an old key once `upswing keys status` shows no value under it.")


@keys_app.command("status")
def status(as_json: bool = typer.Option(False, "--json", help="One JSON object on stdout")) -> None:
    """How many stored values each key encrypts, per column."""
    ring = get_key_ring()
    with transaction() as session:
        counts = key_rotation.key_status(session, ring)
    report = _status_report(ring, counts)
    if as_json:
        typer.echo(json.dumps(report))
        return
    console.print(f"Active key: [bold]{ring.active_id}[/]   keys in the ring: {', '.join(ring.keys)}")
    if ring.derived:
        console.print("[yellow]UPSWING_ENCRYPTION_KEYS is not set: the key is derived from the secret key "
                      "(set explicit keys in production).[/]")
    for name, by_key in counts.items():
        shown = ", ".join(f"{kid}: {n}" for kid, n in by_key.items()) or "no values"
        console.print(f"  {name}: {shown}")
    if report["old_values"]:
        console.print(f"{report['old_values']} value(s) not under the active key: run `upswing keys rotate`.")
    if report["unknown_keys"]:
        console.print(f"[red]Values under key(s) not in the ring: {', '.join(report['unknown_keys'])}[/]")


def _status_report(ring: KeyRing, counts: dict[str, dict[str, int]]) -> dict[str, Any]:
    totals: dict[str, int] = {}
    for by_key in counts.values():
        for kid, n in by_key.items():
            totals[kid] = totals.get(kid, 0) + n
    return {
        "active_key": ring.active_id, "keys": list(ring.keys), "derived_key": ring.derived,
        "columns": counts, "values_per_key": totals,
        "old_values": sum(n for kid, n in totals.items() if kid != ring.active_id),
        "unknown_keys": sorted(kid for kid in totals if kid not in ring.keys and kid != key_rotation.CLEAR),
    }


@keys_app.command("rotate")
def rotate(batch_size: int = typer.Option(1000, min=1, max=50_000, help="Values per transaction"),
           reindex: bool = typer.Option(False, "--reindex",
                                        help="Also recompute the leads' blind indexes (after a blind-index key "
                                             "change)")) -> None:
    """Re-encrypt every stored value with the active key, a batch per transaction (resumable)."""
    ring = get_key_ring()
    with transaction() as session:
        locations = key_rotation.locations(session)
        pending = key_rotation.pending_count(session, ring)
    rewritten: dict[str, int] = {}
    failed: dict[str, list[str]] = {}
    with progress_bar(f"Re-encrypting with key {ring.active_id}", sum(pending.values())) as advance:
        for location in locations:
            after = None
            while pending.get(location.name):
                with transaction() as session:
                    result = key_rotation.rotate_batch(session, location, ring, after=after, size=batch_size)
                if result.last_key is None:
                    break
                after = result.last_key
                rewritten[location.name] = rewritten.get(location.name, 0) + result.rewritten
                if result.failed:
                    failed.setdefault(location.name, []).extend(result.failed)
                advance(result.seen)
    reindexed = _reindex(ring, batch_size) if reindex else None
    details: dict[str, Any] = {"active_key": ring.active_id, "rewritten": rewritten,
                               "failed": {name: len(keys) for name, keys in failed.items()}}
    if reindexed is not None:
        details["leads_reindexed"] = reindexed
    with transaction() as session:
        record(session, actor=cli_actor(), action="keys.rotate", entity_type="key_ring", entity_id=ring.active_id,
               details=details)
    total = sum(rewritten.values())
    console.print(f"Re-encrypted {total} value(s) with key {ring.active_id}"
                  + (f"; recomputed the blind indexes of {reindexed} lead(s)" if reindexed is not None else "") + ".")
    if failed:
        for name, keys in failed.items():
            err_console.print(f"  {name}: {len(keys)} value(s) no key in the ring opens (first rows: "
                              f"{', '.join(keys[:5])})")
        fail("some values could not be re-encrypted: add the key they were written with to "
             "UPSWING_ENCRYPTION_KEYS and run `upswing keys rotate` again")


def _reindex(ring: KeyRing, batch_size: int) -> int:
    from sqlalchemy import func, select

    from upswing.lead.models import Lead

    with transaction() as session:
        total = session.scalar(select(func.count()).select_from(Lead)) or 0
    changed = 0
    after = None
    with progress_bar("Recomputing lead blind indexes", total) as advance:
        while True:
            with transaction() as session:
                result = key_rotation.reindex_leads(session, ring, after=after, size=batch_size)
            if result.last_key is None:
                return changed
            after = result.last_key
            changed += result.rewritten
            advance(result.seen)
