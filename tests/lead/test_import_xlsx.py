"""XLSX lead files: the first worksheet read in openpyxl's read-only mode, typed cells converted sensibly
(numbers, dates, ZIPs Excel turned into numbers), sheet row numbers in errors, rejects as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factories import auth, make_user
from upswing.account.models import Role
from upswing.lead.importer import LeadFileError, LeadFileReader, LeadValidator, count_rows, detect_format
from upswing.lead.models import Lead
from upswing.lead.service import LeadImportFailed, import_leads

HEADER = ["Account Number", "First Name", "Last Name", "Balance", "DPD", "Date of Birth", "ZIP", "State",
          "Country", "Phone"]


def workbook(rows: Sequence[Sequence[Any]], *, first_title: str = "Leads",
             other_sheet: Sequence[Sequence[Any]] | None = None, active: int = 0) -> bytes:
    """An XLSX file as Excel would save it: ``rows`` on the first sheet (``None`` rows stay empty)."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = first_title
    for number, values in enumerate(rows, start=1):
        for column, value in enumerate(values or (), start=1):
            if value is not None:
                sheet.cell(row=number, column=column, value=value)
    if other_sheet is not None:
        other = book.create_sheet("Other")
        for values in other_sheet:
            other.append(list(values))
    book.active = active
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


GOOD_ROWS: list[list[Any]] = [
    HEADER,
    [1001, "Ann", "Lee", 1234.56, 90, date(1980, 5, 17), 2134, "MA", "US", 6175550142],
    [1002, "Bo", "Ng", 0.1 + 0.2, 30.0, datetime(1979, 1, 2), 21341234, "Texas", None, "(512) 555-0143"],
    [],
    ["C-3", "Chloé", "Tremblay", "$2,500.00", "45", "1990-03-04", "M5V 3L9", "Ontario", "Canada", "416-555-0144"],
]


# --- reading (no database) ----------------------------------------------------------------------


def test_xlsx_rows_keep_their_types_and_sheet_row_numbers() -> None:
    reader = LeadFileReader(workbook(GOOD_ROWS), filename="book.xlsx")
    rows = list(reader)
    assert (reader.format, reader.encoding, reader.columns) == ("xlsx", None, HEADER)
    assert [number for number, _ in rows] == [2, 3, 5]  # the empty sheet row 4 is skipped but counted
    first = rows[0][1]
    assert first["Account Number"] == 1001 and first["Balance"] == Decimal("1234.56")
    assert first["Date of Birth"] == date(1980, 5, 17) and first["ZIP"] == 2134
    second = rows[1][1]
    assert second["Balance"] == Decimal("0.3")  # 0.30000000000000004 as Excel shows it
    assert second["DPD"] == 30 and second["Date of Birth"] == date(1979, 1, 2) and second["Country"] is None
    assert count_rows(workbook(GOOD_ROWS)) == 3


def test_typed_cells_validate_like_a_person_reads_them() -> None:
    validator = LeadValidator()
    parsed = [validator.validate(number, raw) for number, raw in LeadFileReader(workbook(GOOD_ROWS))]
    assert [errors for _, errors in parsed] == [[], [], []]
    ann, bo, chloe = (row for row, _ in parsed)
    assert ann is not None and bo is not None and chloe is not None
    assert (ann.external_id, ann.balance, ann.days_delinquent, ann.birth_date) == (
        "1001", Decimal("1234.56"), 90, date(1980, 5, 17))
    assert (ann.postal_code, ann.phone, ann.state, ann.region_code) == ("02134", "+16175550142", "MA", "US-MA")
    assert (bo.balance, bo.postal_code, bo.state) == (Decimal("0.30"), "02134-1234", "TX")  # ZIP+4 as a number
    assert (chloe.balance, chloe.days_delinquent, chloe.birth_date) == (Decimal("2500.00"), 45, date(1990, 3, 4))
    assert (chloe.country, chloe.state, chloe.region, chloe.region_code, chloe.postal_code) == (
        "CA", None, "Ontario", "CA-ON", "M5V 3L9")


def test_number_postal_codes_are_padded_only_for_us_leads() -> None:
    validator = LeadValidator()
    base = {"id": "1", "first_name": "A", "last_name": "B"}
    row, _ = validator.validate(2, {**base, "zip": 501})
    assert row is not None and row.postal_code == "00501"
    row, _ = validator.validate(3, {**base, "id": "2", "zip": 2134, "country": "DE"})
    assert row is not None and row.postal_code == "2134"
    _, errors = validator.validate(4, {**base, "id": "3", "zip": "2134"})  # text: what the file says
    assert [(e.field, e.value) for e in errors] == [("postal_code", "2134")]
    _, errors = validator.validate(5, {**base, "id": "4", "zip": 1234567890})
    assert [e.field for e in errors] == ["postal_code"]


def test_a_date_cell_with_a_time_is_not_a_birth_date() -> None:
    raw = {"id": "1", "first_name": "A", "last_name": "B", "dob": datetime(1980, 5, 17, 13, 30)}
    _, errors = LeadValidator().validate(2, raw)
    assert [(e.field, e.message) for e in errors] == [("birth_date", "not a date (YYYY-MM-DD or MM/DD/YYYY)")]


def test_header_below_empty_rows_first_sheet_and_extra_cells() -> None:
    rows: list[list[Any]] = [[], [], ["id", "first_name", "last_name", None], [None, None, None],
                             ["7", "Ann", "Lee", None, "stray"], [8, "Bo", "Ng", None, None, None], [None, " "]]
    data = workbook(rows, other_sheet=[["id", "first_name"], ["X", "Other sheet"]], active=1)
    reader = LeadFileReader(data, filename="book.xlsx")
    read = list(reader)
    assert [number for number, _ in read] == [5, 6]  # the sheet's own row numbers
    assert read[0][1]["first_name"] == "Ann" and read[1][1] == {"id": 8, "first_name": "Bo", "last_name": "Ng"}
    _, errors = LeadValidator().validate(*read[0])
    assert [(e.row, e.field, e.value) for e in errors] == [(5, None, ["stray"])]
    assert "more value" in errors[0].message


def test_times_and_odd_header_cells() -> None:
    data = workbook([["id", "first_name", "last_name", 2024, time(9, 30)], ["1", "A", "B", "x", time(10, 0)]])
    reader = LeadFileReader(data)
    assert next(iter(reader))[1] == {"id": "1", "first_name": "A", "last_name": "B", "2024": "x",
                                     "09:30:00": "10:00:00"}


def test_a_workbook_is_recognised_by_its_content() -> None:
    data = workbook(GOOD_ROWS)
    assert detect_format("upload.csv", data[:8]) == "xlsx"
    assert detect_format(None, data[:8]) == "xlsx"
    assert LeadFileReader(io.BytesIO(data)).format == "xlsx"


@pytest.mark.parametrize(("data", "message"), [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "XLS .* save the sheet as XLSX"),
    (b"PK\x03\x04 this is not really a workbook", "cannot be read as an XLSX workbook"),
    (workbook([]), "the first worksheet is empty"),
    (workbook([[], [None, "  "]]), "the first worksheet is empty"),
])
def test_unreadable_workbooks_are_clear_errors(data: bytes, message: str) -> None:
    with pytest.raises(LeadFileError, match=message):
        list(LeadFileReader(data, filename="book.xlsx"))


def test_a_zip_that_is_no_workbook_is_a_clear_error(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "book.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(LeadFileError, match="cannot be read as an XLSX workbook"):
        list(LeadFileReader(path))


def test_a_workbook_declaring_xml_entities_is_refused() -> None:
    """An XML bomb in an uploaded workbook: openpyxl parses through defusedxml, which refuses entities."""
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(workbook([["id", "first_name", "last_name"], ["1", "A", "B"]])))
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w") as archive:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<worksheet", b'<!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
                                                   b"<worksheet", 1)
            archive.writestr(item, data)
    with pytest.raises(LeadFileError, match="cannot be read as an XLSX workbook"):
        list(LeadFileReader(bomb.getvalue()))


# --- import into the database -------------------------------------------------------------------


def test_xlsx_import(db_session: Session, tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    path.write_bytes(workbook(GOOD_ROWS))
    report = import_leads(db_session, path, actor="test")
    assert (report.format, report.encoding, report.total, report.created, report.warnings) == (
        "xlsx", None, 3, 3, [])
    db_session.expire_all()
    leads = {lead.external_id: lead for lead in db_session.scalars(select(Lead))}
    ann, bo, chloe = leads["1001"], leads["1002"], leads["C-3"]
    assert (ann.balance, ann.days_delinquent, ann.birth_date, ann.postal_code) == (
        Decimal("1234.56"), 90, date(1980, 5, 17), "02134")
    assert (ann.timezone, ann.phone, bo.balance, bo.postal_code) == (
        "America/New_York", "+16175550142", Decimal("0.30"), "02134-1234")
    assert (chloe.first_name, chloe.country, chloe.region, chloe.region_code, chloe.timezone) == (
        "Chloé", "CA", "Ontario", "CA-ON", "America/Toronto")
    again = import_leads(db_session, path, actor="test")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)


def test_bad_xlsx_rows_are_named_and_nothing_is_written(db_session: Session, tmp_path: Path) -> None:
    rows = [*GOOD_ROWS, [1004, "Dee", "Poe", -5, "soon", date(1985, 1, 1), 90210, "CA", "US", None]]
    path = tmp_path / "book.xlsx"
    path.write_bytes(workbook(rows))
    with pytest.raises(LeadImportFailed) as info:
        import_leads(db_session, path, actor="test")
    assert [(e["row"], e["field"], e["value"]) for e in info.value.errors] == [
        (6, "balance", -5), (6, "days_delinquent", "soon")]
    assert db_session.scalar(select(func.count()).select_from(Lead)) == 0

    report = import_leads(db_session, path, actor="test", skip_invalid=True)
    assert (report.created, report.rejected, report.rejects_file) == (3, 1, str(tmp_path / "book.rejects.csv"))
    raw = (tmp_path / "book.rejects.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM: Excel opens it with the accents right
    rejects = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rejects == [{**dict.fromkeys(HEADER, ""), "Account Number": "1004", "First Name": "Dee",
                        "Last Name": "Poe", "Balance": "-5", "DPD": "soon", "Date of Birth": "1985-01-01",
                        "ZIP": "90210", "State": "CA", "Country": "US",
                        "error": "balance: must not be negative; days_delinquent: not a whole number"}]


def test_cli_imports_a_workbook_and_prints_the_rejects_path(cli: Callable[..., Any], tmp_path: Path) -> None:
    assert cli("db", "upgrade").exit_code == 0
    path = tmp_path / "book [march].xlsx"
    path.write_bytes(workbook([*GOOD_ROWS, [1004, "Dee", "", 10]]))
    result = cli("leads", "import", str(path), "--skip-invalid")
    assert result.exit_code == 0, result.output
    assert "4 rows into portfolio 'default': 3 created, 0 updated, 0 unchanged, 1 rejected" in result.output
    assert "row 6, field 'last_name': is required" in result.output
    assert f"Rejected rows saved to {tmp_path / 'book [march].rejects.csv'}\n" in result.output
    assert (tmp_path / "book [march].rejects.csv").is_file()
    assert "Read " not in result.output  # no text encoding to report for a workbook


def test_api_uploads_a_workbook(app: Any, client: Any, db_session: Session) -> None:
    headers = auth(app, make_user(db_session, Role.ADMIN))
    db_session.commit()
    response = client.post("/api/v1/leads/import", headers=headers, data={"portfolio": "api"},
                           files={"file": ("book.xlsx", workbook(GOOD_ROWS), "application/octet-stream")})
    assert response.status_code == 200, response.text
    assert (response.json()["format"], response.json()["created"]) == ("xlsx", 3)
    listed = client.get("/api/v1/leads", headers=headers, params={"q": "tremblay"}).json()
    assert [(i["region"], i["region_code"], i["state"]) for i in listed["items"]] == [("Ontario", "CA-ON", None)]
