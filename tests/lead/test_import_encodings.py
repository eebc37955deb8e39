"""Lead files in the encodings people really have: UTF-8 (with or without a BOM), UTF-16 (Excel's "Unicode
text"), Windows-1252/Latin-1, detected or given (service, CLI ``--encoding``, API ``encoding`` field)."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factories import auth, make_user
from upswing.account.models import Role
from upswing.core.errors import UpswingError
from upswing.lead import importer
from upswing.lead.importer import LeadFileError, LeadFileReader, iter_rows
from upswing.lead.models import Lead
from upswing.lead.service import LeadImportFailed, import_leads

HEADER = "external_id,first_name,last_name,city,employer\r\n"
ROWS = "E-1,José,O’Brien,Montréal,Café Müller\r\nE-2,Zoë,Ñúñez,Köln,Œuvre €\r\n"
TEXT = HEADER + ROWS
NAMES = {"E-1": ("José", "O’Brien", "Montréal", "Café Müller"), "E-2": ("Zoë", "Ñúñez", "Köln", "Œuvre €")}


def leads(session: Session) -> dict[str, tuple[str, str, str | None, str | None]]:
    session.expire_all()
    return {lead.external_id: (lead.first_name, lead.last_name, lead.city, lead.employer)
            for lead in session.scalars(select(Lead))}


def lead_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Lead)) or 0


# --- detection (no database) ------------------------------------------------------------------


@pytest.mark.parametrize(("data", "encoding"), [
    (TEXT.encode("utf-8"), "utf-8"),
    (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig"),
    (TEXT.encode("cp1252"), "cp1252"),
    (TEXT.replace(",", "\t").encode("utf-16"), "utf-16"),  # Excel's "Unicode text": UTF-16 with a BOM, tabs
])
def test_encoding_is_detected_and_text_decoded(data: bytes, encoding: str) -> None:
    reader = LeadFileReader(data, filename="leads.txt")
    rows = list(reader)
    assert reader.encoding == encoding
    assert reader.columns == ["external_id", "first_name", "last_name", "city", "employer"]  # no BOM left
    assert {row["external_id"]: (row["first_name"], row["last_name"], row["city"], row["employer"])
            for _, row in rows} == NAMES
    assert [number for number, _ in rows] == [2, 3]


def test_bytes_no_windows_1252_character_has_fall_back_to_latin_1() -> None:
    # 0x81 and 0x8D are undefined in Windows-1252; Latin-1 decodes every byte.
    reader = LeadFileReader(b"id,first_name,last_name\n1,A\x81,B\x8d\n", filename="x.csv")
    assert reader.encoding == "iso8859-1"
    assert next(iter(reader))[1] == {"id": "1", "first_name": "A\x81", "last_name": "B\x8d"}


def test_plain_ascii_is_utf_8() -> None:
    assert LeadFileReader(b"id,first_name\n1,Ann\n", filename="x.csv").encoding == "utf-8"


def test_an_explicit_encoding_overrides_detection() -> None:
    # "Ã©" in Windows-1252 is C3 A9: valid UTF-8 (é), so detection says UTF-8; the user knows better.
    data = "id,first_name,last_name\n1,RenÃ©,Roy\n".encode("cp1252")
    assert next(iter_rows(data, filename="x.csv"))[1]["first_name"] == "René"
    reader = LeadFileReader(data, filename="x.csv", encoding="Windows-1252")
    assert reader.encoding == "cp1252" and next(iter(reader))[1]["first_name"] == "RenÃ©"
    mac = "id,first_name,last_name\n1,Zoë,Roy\n".encode("mac_roman")
    assert next(iter_rows(mac, filename="x.csv", encoding="mac_roman"))[1]["first_name"] == "Zoë"
    # Given as plain UTF-8, a file with a BOM still has clean column names.
    reader = LeadFileReader(codecs.BOM_UTF8 + b"id,first_name\n1,A\n", filename="x.csv", encoding="utf8")
    assert reader.encoding == "utf-8-sig" and next(iter(reader))[1] == {"id": "1", "first_name": "A"}


def test_a_file_that_does_not_decode_in_the_given_encoding_names_the_line() -> None:
    data = TEXT.encode("cp1252")
    with pytest.raises(LeadFileError) as info:
        LeadFileReader(data, filename="x.csv", encoding="utf-8")
    assert str(info.value).startswith("the file is not utf-8 text: byte 0xE9 on line 2 cannot be decoded")
    assert info.value.row == 2 and info.value.errors[0]["row"] == 2
    with pytest.raises(LeadFileError, match="not ascii text: byte 0xE9 on line 2"):
        LeadFileReader(data, filename="x.csv", encoding="ascii")


def test_a_broken_file_with_a_byte_order_mark_is_refused() -> None:
    data = codecs.BOM_UTF8 + b"id,first_name\n1,A\n2,\xe9\n"
    with pytest.raises(LeadFileError, match=r"not utf-8-sig text: byte 0xE9 on line 3 .*give the file's encoding"):
        LeadFileReader(data, filename="x.csv")
    assert LeadFileReader(data, filename="x.csv", encoding="cp1252").encoding == "cp1252"


@pytest.mark.parametrize("name", ["klingon", "base64", "rot13", ""])
def test_unknown_or_non_text_encodings_are_refused(name: str) -> None:
    with pytest.raises(LeadFileError, match="unknown text encoding"):
        LeadFileReader(b"id\n1\n", filename="x.csv", encoding=name or " ")


def test_the_check_reads_in_chunks_and_counts_lines_across_them(monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    monkeypatch.setattr(importer, "_SCAN_CHUNK", 5)
    # Multi-byte characters cut by chunk boundaries are still valid UTF-8.
    text = "id,first_name,last_name\n" + "".join(f"{n},Zoë€,Ñ{n}\n" for n in range(20))
    path = tmp_path / "x.csv"
    path.write_bytes(text.encode("utf-8"))
    reader = LeadFileReader(path)
    assert reader.encoding == "utf-8" and len(list(reader)) == 20
    path.write_bytes(text.encode("utf-8") + "21,Zoë,Ñ\n".encode("cp1252"))
    with pytest.raises(LeadFileError, match="byte 0xEB on line 22"):
        LeadFileReader(path, encoding="utf-8")
    assert LeadFileReader(path).encoding == "cp1252"  # not UTF-8 as a whole; decodes in Windows-1252
    path.write_bytes(b"id\n1\n\xe2\x82")  # a character cut off by the end of the file
    with pytest.raises(LeadFileError, match="byte 0xE2 on line 3"):
        LeadFileReader(path, encoding="utf-8")


def test_jsonl_and_json_in_windows_1252() -> None:
    reader = LeadFileReader('{"id": "1", "first_name": "José"}\n'.encode("cp1252"), filename="x.jsonl")
    assert reader.encoding == "cp1252" and next(iter(reader))[1]["first_name"] == "José"
    reader = LeadFileReader('[{"id": "1", "first_name": "Zoë"}]'.encode("utf-16"), filename="x.json")
    assert reader.encoding == "utf-16" and next(iter(reader))[1]["first_name"] == "Zoë"
    assert LeadFileReader('[{"id": "1"}]'.encode("utf-16")).format == "json"  # sniffed through the BOM


# --- import into the database -------------------------------------------------------------------


def test_cp1252_csv_import(db_session: Session, tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(TEXT.encode("cp1252"))
    report = import_leads(db_session, path, actor="test")
    assert (report.created, report.encoding, report.format) == (2, "cp1252", "csv")
    assert leads(db_session) == NAMES
    # The same file read as UTF-8 on purpose is refused, naming the line, and changes nothing.
    with pytest.raises(LeadFileError, match="line 2"):
        import_leads(db_session, path, actor="test", encoding="utf-8")
    again = import_leads(db_session, path, actor="test", encoding="cp1252")
    assert (again.unchanged, again.created, again.updated) == (2, 0, 0)


def test_utf8_with_bom_and_latin1_imports(db_session: Session) -> None:
    report = import_leads(db_session, codecs.BOM_UTF8 + TEXT.encode("utf-8"), filename="a.csv", actor="t")
    assert (report.created, report.encoding) == (2, "utf-8-sig")
    latin = TEXT.replace("E-", "L-").replace("’", "'").replace("Œuvre €", "Oeuvre").encode("latin-1")
    report = import_leads(db_session, latin, filename="b.csv", actor="t", encoding="latin-1")
    assert (report.created, report.encoding) == (2, "iso8859-1")
    assert leads(db_session)["L-2"] == ("Zoë", "Ñúñez", "Köln", "Oeuvre")
    assert leads(db_session)["E-1"] == NAMES["E-1"]


def test_rejects_file_is_beside_the_input_in_its_encoding(db_session: Session, tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes((TEXT + "E-3,Renée,,Québec,\r\n").encode("cp1252"))
    report = import_leads(db_session, path, actor="test", skip_invalid=True)
    assert (report.created, report.rejected) == (2, 1)
    rejects = tmp_path / "export.rejects.csv"
    assert report.rejects_file == str(rejects)
    with rejects.open(encoding="cp1252", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows == [{"external_id": "E-3", "first_name": "Renée", "last_name": "", "city": "Québec",
                     "employer": "", "error": "last_name: is required"}]


def test_a_relative_path_gives_an_absolute_rejects_path(db_session: Session, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("in.csv").write_text("id,first_name,last_name\n1,A,B\n2,C,\n", encoding="utf-8")
    report = import_leads(db_session, Path("in.csv"), actor="test", skip_invalid=True)
    assert report.rejects_file == str(tmp_path / "in.rejects.csv") and Path(report.rejects_file).is_file()


def test_rejects_file_that_cannot_be_written_is_a_clear_error(db_session: Session, tmp_path: Path) -> None:
    data = b"id,first_name,last_name\n1,A,B\n2,C,\n"
    with pytest.raises(UpswingError, match=r"cannot write the rejected rows to .*nothing was imported"):
        import_leads(db_session, data, filename="u.csv", actor="t", skip_invalid=True,
                     rejects_path=tmp_path / "missing-dir" / "r.csv")


# --- CLI and API ------------------------------------------------------------------------------------


def test_cli_detects_windows_1252_and_takes_encoding(cli: Callable[..., Any], tmp_path: Path) -> None:
    assert cli("db", "upgrade").exit_code == 0
    path = tmp_path / "export.csv"
    path.write_bytes((TEXT + "E-3,Renée,,Québec,\r\n").encode("cp1252"))

    wrong = cli("leads", "import", str(path), "--encoding", "utf-8")
    assert wrong.exit_code == 1
    assert "the file is not utf-8 text: byte 0xE9 on line 2 cannot be decoded" in wrong.output
    assert "Traceback" not in wrong.output
    unknown = cli("leads", "import", str(path), "--encoding", "klingon")
    assert unknown.exit_code == 1 and "unknown text encoding 'klingon'" in unknown.output

    imported = cli("leads", "import", str(path), "--skip-invalid")
    assert imported.exit_code == 0, imported.output
    assert "Read export.csv as cp1252 text" in imported.output
    assert "2 created" in imported.output and "1 rejected" in imported.output
    assert f"Rejected rows saved to {tmp_path / 'export.rejects.csv'}\n" in imported.output
    assert "Renée" in (tmp_path / "export.rejects.csv").read_text(encoding="cp1252")

    again = cli("leads", "import", str(path), "--skip-invalid", "--encoding", "cp1252")
    assert "0 created, 0 updated, 2 unchanged" in again.output


def test_api_upload_detects_or_takes_the_encoding(app: Any, client: Any, db_session: Session) -> None:
    headers = auth(app, make_user(db_session, Role.MANAGER))
    db_session.commit()

    def upload(body: bytes, **data: str) -> Any:
        return client.post("/api/v1/leads/import", headers=headers, data={"portfolio": "api", **data},
                           files={"file": ("export.csv", body, "text/csv")})

    refused = upload(TEXT.encode("cp1252"), encoding="utf-8")
    assert refused.status_code == 422
    assert [(e["row"], e["field"], e["message"]) for e in refused.json()["errors"]] == [
        (2, None, refused.json()["detail"])]
    assert "not utf-8 text: byte 0xE9 on line 2" in refused.json()["detail"]
    assert lead_count(db_session) == 0
    assert upload(b"id\n1\n", encoding="klingon").status_code == 422

    report = upload(TEXT.encode("cp1252")).json()
    assert (report["created"], report["encoding"]) == (2, "cp1252")
    forced = upload(TEXT.encode("cp1252"), encoding="cp1252").json()
    assert (forced["unchanged"], forced["encoding"]) == (2, "cp1252")
    listed = client.get("/api/v1/leads", headers=headers, params={"q": "o’brien"}).json()
    assert [item["first_name"] for item in listed["items"]] == ["José"]


def test_import_failure_still_names_rows_after_decoding(db_session: Session) -> None:
    data = (HEADER + "E-1,José,,Montréal,\r\n").encode("cp1252")
    with pytest.raises(LeadImportFailed) as info:
        import_leads(db_session, data, filename="x.csv", actor="t")
    assert [(e["row"], e["field"]) for e in info.value.errors] == [(2, "last_name")]
    assert lead_count(db_session) == 0
