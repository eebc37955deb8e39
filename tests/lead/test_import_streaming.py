"""Large imports in flat memory: all-or-nothing whatever the size, capped error reports, rejects written as they
come, re-imports looked up a chunk at a time, and files read without being held (JSON arrays too)."""

from __future__ import annotations

import csv
import gc
import io
import json
import tracemalloc
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from upswing.lead import importer, service
from upswing.lead.importer import LeadFileError, LeadFileReader, estimate_rows, iter_rows
from upswing.lead.models import Lead, Portfolio
from upswing.lead.service import LeadImportFailed, import_leads, plan_import

HEADER = ["external_id", "first_name", "last_name", "email", "phone", "state", "balance", "notes"]


def rows(count: int, *, start: int = 1, bad_every: int = 0, **overrides: str) -> Iterator[dict[str, str]]:
    """Lead rows; with ``bad_every`` every n-th row has an invalid e-mail."""
    for n in range(start, start + count):
        row = {"external_id": f"L-{n}", "first_name": f"First{n}", "last_name": "Last", "email": f"p{n}@example.com",
               "phone": f"212555{n % 10000:04d}", "state": "NY", "balance": f"{n % 5000}.25", "notes": ""}
        if bad_every and n % bad_every == 0:
            row["email"] = f"broken-address-{n}"
        row.update(overrides)
        yield row


def write_csv(path: Path, items: Iterator[dict[str, str]] | list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(items)
    return path


def count(session: Session, model: type[Any]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


# --- all or nothing, at size --------------------------------------------------------------------


def test_a_large_import_is_all_or_nothing_on_one_bad_row(db_session: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "big.csv", [*rows(49_999), {**next(rows(1, start=50_000)), "state": "ZZ"}])
    with pytest.raises(LeadImportFailed) as info:
        import_leads(db_session, path, actor="test", portfolio_name="big")
    assert [(e["row"], e["field"]) for e in info.value.errors] == [(50_001, "state")]
    assert (info.value.report.total, info.value.report.rejected) == (50_000, 1)
    assert count(db_session, Lead) == count(db_session, Portfolio) == 0

    write_csv(path, rows(50_000))
    report = import_leads(db_session, path, actor="test", portfolio_name="big")
    assert (report.total, report.created, report.rejected) == (50_000, 50_000, 0)
    assert count(db_session, Lead) == 50_000
    lead = db_session.scalars(select(Lead).where(Lead.external_id == "L-49999")).one()
    assert (lead.email, lead.phone, lead.balance) == ("p49999@example.com", "+12125559999", Decimal("4999.25"))


def test_errors_are_counted_per_field_and_only_the_first_ones_listed(db_session: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bad.csv", rows(20_000, bad_every=2))  # 10,000 bad e-mails
    with pytest.raises(LeadImportFailed) as info:
        import_leads(db_session, path, actor="test")
    report = info.value.report
    assert (report.total, report.rejected, report.error_count) == (20_000, 10_000, 10_000)
    assert report.errors_by_field == {"email": 10_000}
    assert len(report.errors) == len(info.value.errors) == 100  # UPSWING_IMPORT_MAX_ERRORS
    assert [e.row for e in report.errors[:3]] == [3, 5, 7]
    assert "10000 of 20000 row(s) are invalid (10000 error(s): email 10000)" in str(info.value)
    assert count(db_session, Lead) == 0

    with pytest.raises(LeadImportFailed) as info:
        import_leads(db_session, path, actor="test", max_errors=5)
    assert len(info.value.errors) == 5 and info.value.report.error_count == 10_000


def test_a_huge_bad_value_is_cut_in_the_report(db_session: Session) -> None:
    # An unclosed quote makes one cell of the rest of the file: the report must not repeat it all.
    data = 'id,first_name,last_name,state\n1,"A,B,NY\n' + "2,C,D,NY\n" * 5_000
    with pytest.raises(LeadImportFailed) as info:
        import_leads(db_session, data.encode(), filename="x.csv", actor="test")
    errors = info.value.errors
    assert errors and all(len(str(e.get("value") or "")) <= 201 for e in errors)
    assert str(errors[0]["value"]).endswith("…")


def test_skip_invalid_writes_the_good_rows_and_every_rejected_row(db_session: Session, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "IMPORT_CHUNK", 1000)
    path = write_csv(tmp_path / "mixed.csv", rows(20_000, bad_every=2))
    report = import_leads(db_session, path, actor="test", skip_invalid=True)
    assert (report.created, report.rejected, report.error_count, len(report.errors)) == (10_000, 10_000, 10_000, 100)
    assert report.rejects_file == str(tmp_path / "mixed.rejects.csv")
    assert count(db_session, Lead) == 10_000
    with (tmp_path / "mixed.rejects.csv").open(newline="", encoding="utf-8") as handle:
        rejected = list(csv.DictReader(handle))
    assert len(rejected) == 10_000
    assert [r["external_id"] for r in rejected[:2]] == ["L-2", "L-4"] and rejected[-1]["external_id"] == "L-20000"
    assert rejected[0]["error"].startswith("email: not a valid e-mail address")
    assert not list(tmp_path.glob(".*.tmp"))  # the file is written beside its target, then renamed into place


def test_the_rejects_file_neutralises_formulas(db_session: Session, tmp_path: Path) -> None:
    bad = [{**row, "email": "=HYPERLINK(\"http://evil.example\",\"x\")", "notes": "@SUM(A1:A9)"}
           for row in rows(2)]
    bad[1]["phone"] = "+1 212 555"  # a short number, rejected too
    bad[1]["notes"] = "-2+3"
    path = write_csv(tmp_path / "evil.csv", [*bad, *rows(1, start=3)])
    report = import_leads(db_session, path, actor="test", skip_invalid=True)
    assert (report.created, report.rejected) == (1, 2)
    with (tmp_path / "evil.rejects.csv").open(newline="", encoding="utf-8") as handle:
        rejected = list(csv.DictReader(handle))
    assert rejected[0]["email"] == "'=HYPERLINK(\"http://evil.example\",\"x\")"
    assert rejected[0]["notes"] == "'@SUM(A1:A9)" and rejected[1]["notes"] == "'-2+3"
    assert rejected[1]["phone"] == "'+1 212 555"
    assert rejected[0]["balance"] == "1.25"  # plain values are left alone


def test_an_unwritable_rejects_folder_fails_before_any_write(db_session: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "mixed.csv", rows(50, bad_every=10))
    with pytest.raises(service.UpswingError, match="cannot write the rejected rows"):
        import_leads(db_session, path, actor="test", skip_invalid=True,
                     rejects_path=tmp_path / "missing" / "r.csv")
    assert count(db_session, Lead) == count(db_session, Portfolio) == 0


# --- re-imports -----------------------------------------------------------------------------------


def test_reimports_look_up_existing_leads_a_chunk_at_a_time(db_session: Session, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "IMPORT_CHUNK", 500)
    path = write_csv(tmp_path / "book.csv", rows(3_000))
    assert import_leads(db_session, path, actor="test").created == 3_000

    looked_up: list[tuple[int, int]] = []
    load_existing = service._load_existing

    def spy(session: Session, portfolio_id: Any, external_ids: list[str]) -> dict[str, dict[str, Any]]:
        found = load_existing(session, portfolio_id, external_ids)
        looked_up.append((len(external_ids), len(found)))
        return found

    monkeypatch.setattr(service, "_load_existing", spy)
    again = import_leads(db_session, path, actor="test")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3_000)
    assert looked_up == [(500, 500)] * 6  # each chunk's leads, by external id: never the whole book

    looked_up.clear()
    changed = [{**row, "balance": "1.00"} if n % 3 == 0 else row for n, row in enumerate(rows(3_200))]
    report = import_leads(db_session, write_csv(path, changed), actor="test")
    assert (report.created, report.updated, report.unchanged) == (200, 1_000, 2_000)
    assert looked_up[-1] == (200, 0)
    balances = dict(db_session.execute(select(Lead.external_id, Lead.balance)).all())
    assert balances["L-1"] == Decimal("1.00") and balances["L-2"] == Decimal("2.25") and len(balances) == 3_200


def test_plan_and_apply_in_two_sessions(db_session: Session, tmp_path: Path) -> None:
    """The CLI's way: checked in one (read-only) transaction, written in another."""
    path = write_csv(tmp_path / "two.csv", rows(30))
    with plan_import(db_session, path, portfolio_name="two") as plan:
        assert (plan.report.created, count(db_session, Lead)) == (30, 0)
        service.apply_import(db_session, plan, actor="test")
    assert count(db_session, Lead) == 30
    dry = plan_import(db_session, path, portfolio_name="two", dry_run=True)
    assert (dry.report.unchanged, dry.inserts.rows, dry.updates.rows) == (30, 0, 0)
    dry.close()


# --- memory -----------------------------------------------------------------------------------------


def _peak_planning(session: Session, path: Path) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        plan_import(session, path, portfolio_name="memory").close()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_number_of_rows(db_session: Session, tmp_path: Path) -> None:
    small = write_csv(tmp_path / "small.csv", rows(5_000))
    large = write_csv(tmp_path / "large.csv", rows(20_000))
    _peak_planning(db_session, small)  # caches and lazy imports out of the way
    peak_small = _peak_planning(db_session, small)
    peak_large = _peak_planning(db_session, large)
    # Four times the rows, about the same peak: that of one chunk's work, not of the file.
    assert peak_large < peak_small * 1.3 + 2_000_000, (peak_small, peak_large)


# --- reading ------------------------------------------------------------------------------------------


def test_json_arrays_are_read_an_item_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importer, "_JSON_CHUNK", 7)  # items, keys and numbers cut across reads
    items = [{"id": f"J{n}", "first_name": "Ann", "balance": 1234567.5 + n, "ok": True, "none": None}
             for n in range(50)]
    for document in (items, {"meta": {"n": [1, 2]}, "leads": items, "after": "x"}):
        data = json.dumps(document, indent=1).encode()
        assert [item for _, item in iter_rows(data, filename="x.json")] == items
    reader = LeadFileReader(b'{"leads": []}', filename="x.json")
    assert list(reader) == []


@pytest.mark.parametrize(("data", "message"), [
    (b'[{"id": 1},\n {"id": 2}\n {"id": 3}]', "invalid JSON on line 3: Expecting ',' delimiter"),
    (b'[{"id": 1}]\n]', "invalid JSON on line 2: Extra data"),
    (b'{"leads": {"id": 1}}', "array of objects"),
    (b'{"other": []}', "array of objects"),
    (b'"text"', "array of objects"),
    (b"", "invalid JSON on line 1"),
    (b'[{"id": 1}, {"id": \n\n tru}]', "invalid JSON on line 3"),
])
def test_json_errors_name_their_line(data: bytes, message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for chunk in (3, 1024):
        monkeypatch.setattr(importer, "_JSON_CHUNK", chunk)
        with pytest.raises(LeadFileError, match=message):
            list(iter_rows(data, filename="x.json"))


def test_a_json_item_too_large_to_hold_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importer, "_JSON_CHUNK", 64)
    monkeypatch.setattr(importer, "_JSON_MAX_ITEM", 1000)
    data = json.dumps([{"id": "1", "notes": "x" * 5000}, {"id": "2"}]).encode()
    with pytest.raises(LeadFileError, match="larger than"):
        list(iter_rows(data, filename="x.json"))


def test_file_objects_are_read_in_place_and_left_open(tmp_path: Path) -> None:
    handle = io.BytesIO(b"junk before|id,first_name\n1,Ann\n2,Bo\n")
    handle.seek(len(b"junk before|"))
    reader = LeadFileReader(handle, filename="x.csv")
    assert [row["first_name"] for _, row in reader] == ["Ann", "Bo"]
    assert [row["first_name"] for _, row in reader] == ["Ann", "Bo"]  # read again from where it stood
    assert not handle.closed

    class Pipe(io.RawIOBase):  # a stream that cannot seek: copied to a temporary file first
        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            chunk = self._data.read(len(buffer))
            buffer[:len(chunk)] = chunk
            return len(chunk)

    reader = LeadFileReader(Pipe(b"id;first_name\n1;Cy\n"), filename="p.csv")
    assert [row["first_name"] for _, row in reader] == ["Cy"]
    reader.close()


def test_estimate_rows_counts_lines_quickly(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("id,first_name\n1,A\n\n2,\"B\nB\"\n3,C")
    assert estimate_rows(path) == 5  # at least the 3 rows: blank lines and breaks in values count too
    (tmp_path / "x.jsonl").write_text('{"id": 1}\n{"id": 2}\n')
    assert estimate_rows(tmp_path / "x.jsonl") == 2
    (tmp_path / "x.json").write_text("[]")
    assert estimate_rows(tmp_path / "x.json") is None
    assert estimate_rows(tmp_path / "missing.csv") is None
