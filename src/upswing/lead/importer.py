"""Reading and validating lead import files (CSV, JSON, JSONL, XLSX). Pure: no database here.

File formats
------------
* **CSV** — first line is the header (required). The delimiter is detected from the header line
  among ``,`` ``;`` tab and ``|`` (comma by default; ``.tsv`` files use tab). Rows whose cells are
  all empty are skipped.
* **JSON** — one array of objects (or ``{"leads": [...]}``).
* **JSONL** — one object per line; blank lines are skipped.
* **XLSX** — the first worksheet (openpyxl, read-only: rows are streamed); its first non-empty row
  is the header. Formulas give their last computed value. Numbers, dates and booleans keep their
  type (see ``LeadFileReader``); XLS (Excel 97-2003) files are refused with a clear message.

The format comes from the content when it is a ZIP archive (XLSX), else from the file name's
extension (``.csv``/``.tsv``/``.txt``, ``.json``, ``.jsonl``/``.ndjson``, ``.xlsx``/``.xlsm``), else
it is sniffed from the content (``[`` → JSON, ``{`` → JSONL, anything else → CSV).

Text encodings (CSV, JSON, JSONL)
---------------------------------
Given by the caller (``--encoding``, the API's ``encoding`` field), or detected: a byte-order mark
(UTF-8 or UTF-16), else UTF-8 when the whole file is valid UTF-8, else Windows-1252 (``cp1252``:
what Excel on Windows writes, a superset of Latin-1's printable characters), else Latin-1. A file
that does not decode in the given encoding is refused, naming the line of the first bad byte.

Row numbers
-----------
Errors carry the row number a person sees: for CSV it is the spreadsheet row, counting the header
as row 1, so the first data row is row 2 (blank lines count, as they do in a spreadsheet; a quoted
value spanning several lines is still one row). For XLSX it is the worksheet's row number. For
JSON it is the 1-based position of the object in the array; for JSONL the 1-based line number.

Column mapping
--------------
Column names are matched case-insensitively, ignoring spaces, dashes, underscores and dots, so
``First Name``, ``first-name`` and ``FIRST_NAME`` are all ``first_name``. See ``COLUMN_ALIASES``
for every accepted name; unknown columns are ignored with a warning.

Validation (per field; every problem is reported, not just the first of a row)
-----------------------------------------------------------------------------
* ``external_id``, ``first_name``, ``last_name`` are required; an ``external_id`` repeated in the
  same file is an error on the later row.
* ``email``: syntax checked (``email_validator``, no DNS), stored lowercased.
* ``phone``: parsed with ``phonenumbers`` (default region: the row's country, else US), must be a
  valid number, stored as E.164. ``phone_type``: ``cell`` (or ``mobile``), ``home``, ``work``.
* ``country``: ISO 3166 alpha-2 (``USA``, ``United States``, alpha-3 codes and ISO country names
  are accepted). No country means US.
* ``state`` (also ``province``, ``region``): stored as given in ``region``, with its ISO 3166-2 code in
  ``region_code`` when it is one (``Ontario``, ``ON`` or ``CA-ON`` → ``CA-ON``; see
  ``subdivision_code``). For US leads it must be a USPS code — the 50 states, DC, territories (PR,
  GU, VI, AS, MP), freely associated states (FM, MH, PW) and military (AA, AE, AP) — or the full
  name, and that code is also stored in ``state``; elsewhere it is free text and ``state`` stays
  empty (US rules key on it).
* ``postal_code``: for US leads a ZIP code, ``12345`` or ``12345-6789`` (a ZIP a spreadsheet turned
  into a number gets its leading zeros back); elsewhere free text.
* ``balance``: a non-negative amount with at most 2 decimals (``$1,234.56`` is fine).
* ``days_delinquent``: a non-negative whole number.
* ``birth_date`` (optional): ``YYYY-MM-DD`` or the US ``MM/DD/YYYY`` (or a date cell); a real date,
  not in the future and not before 1900. Stored encrypted, like e-mails, phones and addresses
  (docs/security.md).
* ``linkedin_url``: normalized by ``upswing.core.identifiers.normalize_linkedin_url`` to the
  canonical profile URL and public id.
* ``timezone``: an IANA zone name. When absent it is derived: for US leads from the state
  (``STATE_TIMEZONES``: the zone where most of the state's people live — an approximation for states
  split across zones); elsewhere from the region (``REGION_TIMEZONES``, e.g. Canadian provinces),
  else from the country when one zone covers it (``COUNTRY_TIMEZONES``).
* Empty strings are treated as missing values.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
import re
import shutil
import tempfile
import unicodedata
import warnings
import zipfile
import zoneinfo
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dt_time
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from pathlib import Path
from typing import IO, Any, Literal

import phonenumbers

from upswing.core.csvsafe import SafeWriter
from upswing.core.errors import ValidationFailedError
from upswing.core.identifiers import normalize_email, normalize_linkedin_url, normalize_phone

FileFormat = Literal["csv", "json", "jsonl", "xlsx"]
LeadSource = Path | str | bytes | IO[bytes]

# --------------------------------------------------------------------------------------------
# Column mapping
# --------------------------------------------------------------------------------------------

#: Every field an import file can carry, in the order used for documentation and reject files.
CANONICAL_FIELDS: tuple[str, ...] = (
    "external_id", "first_name", "middle_name", "last_name", "email", "phone", "phone_type",
    "address", "city", "state", "postal_code", "country", "timezone", "linkedin_url", "employer",
    "title", "balance", "days_delinquent", "assignee", "team", "birth_date",
)

#: Accepted column names per canonical field (the canonical name itself is always accepted).
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "external_id": ("id", "account_number", "account_no", "account_id", "loan_id", "loan_number",
                    "customer_id", "reference", "ref"),
    "first_name": ("firstname", "first name", "given_name", "forename", "fname"),
    "middle_name": ("middlename", "middle", "middle_initial", "mi"),
    "last_name": ("lastname", "surname", "family_name", "lname"),
    "email": ("e-mail", "email_address", "e-mail address", "mail"),
    "phone": ("mobile", "phone_number", "cell", "cell_phone", "mobile_phone", "telephone", "tel"),
    "phone_type": ("phonetype", "phone_kind", "number_type"),
    "address": ("street", "street_address", "address1", "address_line_1", "addr"),
    "city": ("town", "locality"),
    "state": ("province", "region", "state_code", "st"),
    "postal_code": ("zip", "zipcode", "zip_code", "postal", "postcode"),
    "country": ("country_code", "nation"),
    "timezone": ("time_zone", "tz"),
    "linkedin_url": ("linkedin", "linkedin_profile", "linkedin_profile_url", "linkedin_link"),
    "employer": ("company", "current_employer", "employer_name", "company_name", "organization"),
    "title": ("job_title", "position", "job", "occupation", "role"),
    "balance": ("amount_due", "balance_due", "outstanding_balance", "amount", "amount_owed",
                "current_balance"),
    "days_delinquent": ("dpd", "days_past_due", "delinquency_days", "days_late"),
    "assignee": ("agent", "assigned_to", "owner", "collector", "username"),
    "team": ("team_name", "group"),
    "birth_date": ("dob", "date_of_birth", "birthdate", "birthday", "born"),
}


def normalize_column_name(name: str) -> str:
    """Lowercase, without spaces, dashes, underscores or dots: the key column names are matched on."""
    return re.sub(r"[\s_.\-]+", "", name).lower()


_COLUMN_LOOKUP: dict[str, str] = {}
for _canonical in CANONICAL_FIELDS:
    for _name in (_canonical, *COLUMN_ALIASES.get(_canonical, ())):
        _key = normalize_column_name(_name)
        if _COLUMN_LOOKUP.setdefault(_key, _canonical) != _canonical:  # pragma: no cover
            raise RuntimeError(f"column alias {_name!r} is ambiguous")


def canonical_column(name: str) -> str | None:
    """The canonical field a column name maps to, or None if it is not a known column."""
    return _COLUMN_LOOKUP.get(normalize_column_name(name))


# --------------------------------------------------------------------------------------------
# Reading files
# --------------------------------------------------------------------------------------------


class LeadFileError(ValidationFailedError):
    """The file as a whole cannot be read (encoding, header, JSON syntax, shape)."""

    def __init__(self, message: str, row: int | None = None) -> None:
        super().__init__(message, [{"row": row, "field": None, "value": None, "message": message}])
        self.row = row


_EXTENSIONS: dict[str, FileFormat] = {
    ".csv": "csv", ".tsv": "csv", ".txt": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl",
    ".xlsx": "xlsx", ".xlsm": "xlsx",
}
#: Every XLSX file is a ZIP archive; an XLS (Excel 97-2003) file is an OLE compound document.
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)
#: Bytes read to detect the format, the byte-order mark and the CSV delimiter.
_HEAD_BYTES = 64 * 1024
#: Bytes decoded at a time when a file's encoding is checked (only this much is in memory at once).
_SCAN_CHUNK = 1024 * 1024
#: Encodings in which ASCII bytes are ASCII characters: an all-ASCII chunk needs no decoding to be checked.
_ASCII_COMPATIBLE = frozenset({"utf-8", "utf-8-sig", "cp1252", "iso8859-1", "ascii"})
#: A stream that cannot seek is copied to a temporary file first; up to this much of it stays in memory.
_SPOOL_BYTES = 4 * 1024 * 1024
#: Characters of a JSON file read at a time, and the largest single item (a larger one is refused: reading
#: it would mean holding it all).
_JSON_CHUNK = 1024 * 1024
_JSON_MAX_ITEM = 16 * 1024 * 1024


def detect_format(filename: str | None, head: bytes) -> FileFormat:
    """A ZIP archive is an XLSX workbook whatever its name; otherwise the format comes from the file name's
    extension, else it is sniffed from the first bytes of content."""
    if head.startswith(_ZIP_MAGIC):
        return "xlsx"
    if filename:
        fmt = _EXTENSIONS.get(Path(filename).suffix.lower())
        if fmt:
            return fmt
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        head = head.decode("utf-16", errors="ignore").encode("utf-8")
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"["):
        return "json"
    if text.startswith(b"{"):
        return "jsonl"
    return "csv"


def _codec(name: str) -> str:
    """The codec's canonical name (``windows-1252`` → ``cp1252``); LeadFileError if it is not a text encoding."""
    try:
        info = codecs.lookup(name.strip())
    except (LookupError, ValueError):  # ValueError: a name with a NUL in it
        info = None
    if info is None or not getattr(info, "_is_text_encoding", True):
        raise LeadFileError(f"unknown text encoding {name!r} (for example utf-8, cp1252 or latin-1)")
    return info.name


def _first_bad_byte(chunks: Iterable[bytes], encoding: str) -> tuple[int, int] | None:
    """``(line, byte)`` of the first byte that does not decode in ``encoding``, or None if all of it does.

    Decodes a chunk at a time and keeps none of the text: a check, not a copy of the file."""
    if encoding == "utf-8-sig":  # same verdict (a BOM is valid UTF-8), and its error positions count the BOM
        encoding = "utf-8"
    decoder = codecs.getincrementaldecoder(encoding)()
    ascii_compatible = encoding in _ASCII_COMPATIBLE
    line = 1
    for chunk in chunks:
        pending = decoder.getstate()[0]
        if not (ascii_compatible and not pending and chunk.isascii()):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                data = pending + chunk
                position = max(exc.start - len(pending), 0)
                return line + chunk[:position].count(b"\n"), data[exc.start]
        line += chunk.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:  # a character cut off by the end of the file
        return line, exc.object[exc.start] if exc.object else 0
    return None


def _sniff_delimiter(header_line: str, filename: str | None) -> str:
    if filename and filename.lower().endswith(".tsv"):
        return "\t"
    counts = {d: header_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _unique_names(names: list[str]) -> list[str]:
    """A repeated column name becomes ``name (2)``: an unknown column, so the first one is the one used."""
    seen: dict[str, int] = {}
    unique = list(names)
    for i, name in enumerate(names):
        if name:
            seen[name] = seen.get(name, 0) + 1
            if seen[name] > 1:
                unique[i] = f"{name} ({seen[name]})"
    return unique


class _Borrowed(io.RawIOBase):
    """A caller's binary file, read from ``start`` on; closing this leaves the caller's file open."""

    def __init__(self, handle: IO[bytes], start: int) -> None:
        super().__init__()
        self._handle = handle
        self._start = start
        handle.seek(start)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            offset += self._start
        return self._handle.seek(offset, whence) - self._start

    def tell(self) -> int:
        return self._handle.tell() - self._start

    def readinto(self, buffer: Any) -> int:
        data = self._handle.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


class LeadFileReader:
    """Iterates the rows of an import file as ``(row_number, {original column: value})``.

    ``columns`` lists the original column names in order of first appearance (for CSV and XLSX the
    header; for JSON/JSONL the union of keys seen so far). Values are as read: strings for CSV, any
    JSON value for JSON/JSONL, and for XLSX strings, numbers (``int``, or ``Decimal`` to Excel's 15
    significant digits), booleans and dates (``date``, or ``datetime`` when the cell has a time of day).
    Rows with no non-empty value are skipped.

    ``encoding`` (text formats) is the codec the file is read with: ``encoding`` when given, else
    detected — a byte-order mark (``utf-8-sig``, ``utf-16``), else ``utf-8`` when the whole file is valid
    UTF-8, else ``cp1252`` (Windows-1252, a superset of Latin-1's printable characters), else
    ``iso8859-1`` (Latin-1, which decodes any byte). It is None for XLSX.

    A file given by path or as a binary file object is read as the rows are iterated: no format is held in
    memory whole (a JSON array is parsed an item at a time; a workbook's rows are streamed, though openpyxl
    keeps its shared-strings table). The encoding check reads the file once more, a chunk at a time. A file
    object that can seek is read where it stands each time and left open; one that cannot is first copied to
    a temporary file (``close`` removes it). Bytes are read in place.
    """

    def __init__(self, source: LeadSource, *, filename: str | None = None,
                 file_format: FileFormat | None = None, encoding: str | None = None) -> None:
        self._path: Path | None = None
        self._data = b""
        self._handle: IO[bytes] | None = None
        self._start = 0
        self._owned: IO[bytes] | None = None
        name: str | None
        if isinstance(source, str | Path):
            self._path = Path(source)
            name = self._path.name
            try:
                with self._path.open("rb") as handle:
                    head = handle.read(_HEAD_BYTES)
            except OSError as exc:
                raise LeadFileError(f"cannot read {self._path}: {exc.strerror or exc}") from exc
        else:
            if isinstance(source, bytes):
                self._data, name = source, None
                head = self._data[:_HEAD_BYTES]
            else:
                source_name = getattr(source, "name", None)
                name = Path(source_name).name if isinstance(source_name, str) else None
                self._handle, self._start = self._seekable(source)
                head = self._handle.read(_HEAD_BYTES)
        self.filename: str | None = filename or name
        if head.startswith(_OLE_MAGIC):
            raise LeadFileError("XLS (Excel 97-2003) and password-protected workbooks cannot be read: save the "
                                "sheet as XLSX (Excel Workbook) or CSV")
        self.format: FileFormat = file_format or detect_format(self.filename, head)
        self._head = head
        self.encoding: str | None = None if self.format == "xlsx" else self._choose_encoding(encoding)
        self.columns: list[str] = []
        self._seen: set[str] = set()

    def close(self) -> None:
        """Remove the temporary copy of a stream that could not seek (a caller's file stays open)."""
        if self._owned is not None:
            self._owned.close()
            self._owned = None

    def _seekable(self, source: IO[bytes]) -> tuple[IO[bytes], int]:
        try:
            if source.seekable():
                return source, source.tell()
        except (AttributeError, OSError, ValueError):
            pass
        spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115 - closed by close()
        shutil.copyfileobj(source, spool, _SCAN_CHUNK)
        spool.seek(0)
        self._owned = spool
        return spool, 0

    # --- bytes and text -----------------------------------------------------------------------

    def _binary(self) -> IO[bytes]:
        if self._handle is not None:
            return io.BufferedReader(_Borrowed(self._handle, self._start), _SCAN_CHUNK)
        if self._path is None:
            return io.BytesIO(self._data)  # shares the bytes: no copy
        try:
            return self._path.open("rb")
        except OSError as exc:
            raise LeadFileError(f"cannot read {self._path}: {exc.strerror or exc}") from exc

    def _chunks(self) -> Iterator[bytes]:
        with self._binary() as handle:
            while chunk := handle.read(_SCAN_CHUNK):
                yield chunk

    def _choose_encoding(self, requested: str | None) -> str:
        head = self._head
        if requested:
            encoding = _codec(requested)
            if encoding == "utf-8" and head.startswith(codecs.BOM_UTF8):
                encoding = "utf-8-sig"
            self._check_decodes(encoding, "leave out the encoding to have it detected")
            return encoding
        for bom, encoding in _BOMS:
            if head.startswith(bom):
                self._check_decodes(encoding, "give the file's encoding")
                return encoding
        if _first_bad_byte(self._chunks(), "utf-8") is None:
            return "utf-8"
        if _first_bad_byte(self._chunks(), "cp1252") is None:
            return "cp1252"
        return "iso8859-1"  # Latin-1 decodes every byte

    def _check_decodes(self, encoding: str, hint: str) -> None:
        bad = _first_bad_byte(self._chunks(), encoding)
        if bad is not None:
            line, byte = bad
            raise LeadFileError(f"the file is not {encoding} text: byte 0x{byte:02X} on line {line} cannot be "
                                f"decoded ({hint})", line)

    @contextmanager
    def _text(self) -> Iterator[IO[str]]:
        assert self.encoding is not None
        if self._path is None:
            handle: IO[str] = io.TextIOWrapper(self._binary(), encoding=self.encoding, newline="")
        else:
            try:
                handle = self._path.open(encoding=self.encoding, newline="")
            except OSError as exc:
                raise LeadFileError(f"cannot read {self._path}: {exc.strerror or exc}") from exc
        with handle:
            try:
                yield handle
            except UnicodeDecodeError as exc:  # the file changed since its encoding was checked
                raise LeadFileError(f"the file is not {self.encoding} text ({exc.reason})") from exc

    def _first_line(self) -> str:
        assert self.encoding is not None
        text = self._head.decode(self.encoding, errors="replace")
        return next((line for line in text.splitlines() if line.strip()), "")

    # --- rows ---------------------------------------------------------------------------------

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any]]]:
        if self.format == "csv":
            return self._iter_csv()
        if self.format == "json":
            return self._iter_json()
        if self.format == "xlsx":
            return self._iter_xlsx()
        return self._iter_jsonl()

    def _add_columns(self, keys: Iterable[str]) -> None:
        for key in keys:
            if key not in self._seen:
                self._seen.add(key)
                self.columns.append(key)

    def _iter_csv(self) -> Iterator[tuple[int, dict[str, Any]]]:
        delimiter = _sniff_delimiter(self._first_line(), self.filename)
        with self._text() as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            try:
                header = next(reader, None)
                while header is not None and not any(c.strip() for c in header):
                    header = next(reader, None)
            except csv.Error as exc:
                raise LeadFileError(f"the CSV header cannot be read: {exc}", 1) from exc
            if header is None:
                raise LeadFileError("the file is empty: a CSV file needs a header line", 1)
            header = [h.strip().lstrip("\ufeff") for h in header]
            if not any(header):
                raise LeadFileError("the CSV header has no column names", 1)
            header = _unique_names(header)
            self.columns = list(header)
            width = len(header)
            row_number = 1
            try:
                for values in reader:
                    row_number += 1
                    if not values or not any(v.strip() for v in values):
                        continue
                    if len(values) < width:
                        values = [*values, *([""] * (width - len(values)))]
                    row: dict[str, Any] = {h: v for h, v in zip(header, values, strict=False) if h}
                    if len(values) > width and any(v.strip() for v in values[width:]):
                        row[_EXTRA_VALUES] = values[width:]
                    yield row_number, row
            except csv.Error as exc:
                raise LeadFileError(f"row {row_number + 1} cannot be read as CSV: {exc}", row_number + 1) from exc

    def _iter_json(self) -> Iterator[tuple[int, dict[str, Any]]]:
        with self._text() as handle:
            for index, item in enumerate(_JsonScanner(handle).items(), start=1):
                if not isinstance(item, dict):
                    raise LeadFileError(f"item {index} of the JSON array is not an object", index)
                if not any(_present(v) for v in item.values()):
                    continue
                self._add_columns(item)
                yield index, item

    def _iter_jsonl(self) -> Iterator[tuple[int, dict[str, Any]]]:
        with self._text() as handle:
            for line_number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise LeadFileError(f"line {line_number} is not valid JSON: {exc.msg}", line_number) from exc
                if not isinstance(item, dict):
                    raise LeadFileError(f"line {line_number} is not a JSON object", line_number)
                if not any(_present(v) for v in item.values()):
                    continue
                self._add_columns(item)
                yield line_number, item

    def _iter_xlsx(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """The first worksheet: the first non-empty row is the header; row numbers are the sheet's own."""
        from openpyxl import load_workbook  # here, not at the top: a CSV import does not pay for importing it

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # about styles and extensions it does not read: not our concern
                workbook = load_workbook(self._workbook_source(), read_only=True, data_only=True)
        except _XLSX_ERRORS as exc:
            raise LeadFileError(f"the file cannot be read as an XLSX workbook ({exc or type(exc).__name__})") \
                from exc
        try:
            if not workbook.worksheets:
                raise LeadFileError("the workbook has no worksheet")
            sheet = workbook.worksheets[0]
            sheet.reset_dimensions()  # some writers record a wrong size; read every row and cell there is
            rows = _sheet_rows(sheet.iter_rows(values_only=True))
            header: list[str] | None = None
            for _, values in rows:
                if any(_present(v) for v in values):
                    header = _unique_names([_header_name(v) for v in values])
                    break
            if header is None:
                raise LeadFileError("the first worksheet is empty: it needs a header row", 1)
            self.columns = [name for name in header if name]
            width = len(header)
            for row_number, values in rows:
                if not any(_present(v) for v in values):
                    continue
                cells = [_xlsx_value(v) for v in values]
                if len(cells) < width:
                    cells.extend([None] * (width - len(cells)))
                row: dict[str, Any] = {h: v for h, v in zip(header, cells, strict=False) if h}
                if len(cells) > width and any(_present(v) for v in cells[width:]):
                    row[_EXTRA_VALUES] = [v for v in cells[width:] if _present(v)]
                yield row_number, row
        finally:
            workbook.close()


    def _workbook_source(self) -> Path | IO[bytes]:
        if self._path is not None:
            return self._path
        if self._handle is not None:
            return self._binary()
        return io.BytesIO(self._data)


class _JsonScanner:
    """The items of a JSON array (the whole file, or the ``leads`` member of a top-level object), parsed one at a
    time from a text stream: only the current item and a read-ahead of ``_JSON_CHUNK`` characters are held."""

    def __init__(self, handle: IO[str]) -> None:
        self._handle = handle
        self._buffer = ""
        self._pos = 0
        self._line = 1  # line number at the start of the buffer
        self._eof = False
        self._decoder = json.JSONDecoder()

    def items(self) -> Iterator[Any]:
        first = self._peek()
        if first == "[":
            yield from self._array()
        elif first == "{":
            found = False
            self._take("{")
            if self._peek() == "}":
                self._take("}")
            else:
                while True:
                    key = self._value()
                    if not isinstance(key, str):
                        raise self._error("Expecting property name enclosed in double quotes")
                    self._take(":")
                    if key == "leads" and not found and self._peek() == "[":
                        found = True
                        yield from self._array()
                    else:
                        self._value()
                    if self._peek() == ",":
                        self._take(",")
                        continue
                    self._take("}")
                    break
            if not found:
                raise LeadFileError("a JSON import file must be an array of objects")
        else:
            self._value()  # invalid JSON, or a single value that is no array
            raise LeadFileError("a JSON import file must be an array of objects")
        if self._peek():
            raise self._error("Extra data")

    def _array(self) -> Iterator[Any]:
        self._take("[")
        if self._peek() == "]":
            self._take("]")
            return
        while True:
            yield self._value()
            if self._peek() == ",":
                self._take(",")
                continue
            self._take("]")
            return

    def _fill(self) -> bool:
        """Read more text (dropping what was parsed); False at the end of the file."""
        if self._eof:
            return False
        chunk = self._handle.read(_JSON_CHUNK)
        if not chunk:
            self._eof = True
            return False
        self._line += self._buffer.count("\n", 0, self._pos)
        self._buffer = self._buffer[self._pos:] + chunk
        self._pos = 0
        return True

    def _peek(self) -> str:
        """The next character that is not white space ('' at the end), not consumed."""
        while True:
            buffer, pos = self._buffer, self._pos
            end = len(buffer)
            while pos < end and buffer[pos] in " \t\r\n":
                pos += 1
            self._pos = pos
            if pos < end:
                return buffer[pos]
            if not self._fill():
                return ""

    def _take(self, char: str) -> None:
        if self._peek() != char:
            raise self._error(f"Expecting {_JSON_EXPECTED.get(char, repr(char))}")
        self._pos += 1

    def _value(self) -> Any:
        self._peek()
        while True:
            try:
                value, end = self._decoder.raw_decode(self._buffer, self._pos)
            except json.JSONDecodeError as exc:
                # Perhaps cut off by the end of the buffer: read on, up to the largest item we accept.
                if len(self._buffer) - self._pos <= _JSON_MAX_ITEM and self._fill():
                    continue
                if not self._eof:
                    raise LeadFileError(f"the JSON near line {self._line_at(self._pos)} is not valid, or an item "
                                        f"larger than {_JSON_MAX_ITEM:,} characters") from exc
                raise self._error(exc.msg, exc.pos) from exc
            # A number or literal that ends the buffer may go on in the next chunk ("12" of "123").
            if end == len(self._buffer) and not isinstance(value, dict | list | str) and self._fill():
                continue
            self._pos = end
            return value

    def _line_at(self, pos: int) -> int:
        return self._line + self._buffer.count("\n", 0, pos)

    def _error(self, message: str, pos: int | None = None) -> LeadFileError:
        return LeadFileError(f"invalid JSON on line {self._line_at(self._pos if pos is None else pos)}: {message}")


_JSON_EXPECTED = {",": "',' delimiter", ":": "':' delimiter", "]": "',' delimiter", "}": "',' delimiter"}


# What a damaged or mislabelled workbook raises in openpyxl (zipfile, its XML parsers, its own checks).
_XLSX_ERRORS: tuple[type[Exception], ...] = (
    zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, ValueError, TypeError, IndexError, OSError, EOFError,
    SyntaxError,  # xml.etree's and lxml's parse errors
)


def _sheet_rows(rows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """``(sheet row number, values)``; a worksheet that cannot be parsed is a LeadFileError naming the row."""
    row_number = 0
    while True:
        try:
            values = next(rows)
        except StopIteration:
            return
        except _XLSX_ERRORS as exc:
            raise LeadFileError(f"row {row_number + 1} of the worksheet cannot be read "
                                f"({exc or type(exc).__name__})", row_number + 1) from exc
        row_number += 1
        yield row_number, values


def _header_name(value: Any) -> str:
    if value is None:
        return ""
    return (_text(_xlsx_value(value)) or "") if not isinstance(value, str) else value.strip()


def _xlsx_value(value: Any) -> Any:
    """A cell's value as the validator takes it: Excel's numbers are doubles shown to 15 significant digits,
    so a fraction becomes the Decimal a person sees (``1234.56``, not ``1234.5600000000002``) and a whole
    number an int; a date at midnight is a ``date``; times and durations become text."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return value
        if value.is_integer() and abs(value) < 1e15:
            return int(value)
        return Decimal(format(value, ".15g"))
    if isinstance(value, datetime):
        return value.date() if value.time() == dt_time(0) and value.tzinfo is None else value
    if isinstance(value, dt_time | timedelta):
        return str(value)
    return value


# Key under which a CSV or XLSX row keeps values beyond the header's width (reported as a row error).
_EXTRA_VALUES = "\x00extra"
EXTRA_VALUES = _EXTRA_VALUES


def iter_rows(source: LeadSource, *, filename: str | None = None, file_format: FileFormat | None = None,
              encoding: str | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(row_number, {original column: value})`` for each data row of an import file."""
    return iter(LeadFileReader(source, filename=filename, file_format=file_format, encoding=encoding))


def estimate_rows(path: Path, *, file_format: FileFormat | None = None) -> int | None:
    """About how many data rows a CSV or JSON Lines file has, from its line breaks alone (a few hundred MB a
    second): a total for a progress bar. Blank lines and line breaks inside quoted values count too: it is never
    fewer than the rows. None for other formats, or a file that cannot be read."""
    try:
        with path.open("rb") as handle:
            head = handle.read(_HEAD_BYTES)
            if (file_format or detect_format(path.name, head)) not in ("csv", "jsonl"):
                return None
            if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                return None
            lines = head.count(b"\n")
            last = head[-1:]
            while chunk := handle.read(_SCAN_CHUNK):
                lines += chunk.count(b"\n")
                last = chunk[-1:]
    except OSError:
        return None
    if last and last != b"\n":
        lines += 1
    header = 1 if (file_format or detect_format(path.name, head)) == "csv" else 0
    return max(lines - header, 0)


def count_rows(source: LeadSource, *, filename: str | None = None, file_format: FileFormat | None = None,
               encoding: str | None = None) -> int:
    """How many data rows an import file has (blank rows not counted): a total for a progress bar."""
    return sum(1 for _ in LeadFileReader(source, filename=filename, file_format=file_format, encoding=encoding))


def write_rejects_csv(target: Path | IO[str], columns: Sequence[str],
                      rejects: Iterable[tuple[Mapping[str, Any], Sequence[RowError]]], *,
                      encoding: str = "utf-8") -> None:
    """Rejected rows as CSV: their original ``columns`` plus ``error`` ("field: message; ...").

    Rows are written as they come (an iterator keeps memory flat). Every cell goes through
    ``core.csvsafe``: a value a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@`` …) gets a
    leading ``'``. A file is written in ``encoding`` (the import file's, so that it opens as the original
    did); a character that encoding cannot hold becomes ``?``."""
    error_column = "error"
    while error_column in columns:
        error_column = f"_{error_column}"
    if isinstance(target, Path):
        with target.open("w", encoding=encoding, errors="replace", newline="") as handle:
            write_rejects_csv(handle, columns, rejects)
        return
    writer = SafeWriter(target)
    writer.writerow([*columns, error_column])
    for raw, errors in rejects:
        writer.writerow([*(cell_text(raw.get(column)) for column in columns), error_message(errors)])


def error_message(errors: Iterable[RowError]) -> str:
    """A row's errors as one text: ``field: message; field: message``."""
    return "; ".join(f"{e.field}: {e.message}" if e.field else e.message for e in errors)


def cell_text(value: Any) -> str:
    """A value read from an import file as the text of a CSV cell."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    return True


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    field: str | None
    value: Any
    message: str

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "field": self.field, "value": self.value, "message": self.message}


@dataclass(slots=True)
class LeadImportRow:
    """One valid row, normalized. ``provided`` names the canonical fields the row carried a column
    (or key) for: an update only touches those, so a file without a ``balance`` column leaves
    balances alone while an empty ``balance`` cell clears it."""

    row: int
    external_id: str
    first_name: str
    last_name: str
    middle_name: str | None = None
    email: str | None = None
    phone: str | None = None
    phone_type: str | None = None
    address: str | None = None
    city: str | None = None
    #: USPS code, US leads only.
    state: str | None = None
    #: The state, province or region as the file gives it (any country).
    region: str | None = None
    #: ISO 3166-2 code of ``region`` (``US-TX``, ``CA-ON``) when it is one.
    region_code: str | None = None
    postal_code: str | None = None
    country: str | None = None
    timezone: str | None = None
    linkedin_url: str | None = None
    linkedin_public_id: str | None = None
    employer: str | None = None
    title: str | None = None
    balance: Decimal | None = None
    days_delinquent: int | None = None
    assignee: str | None = None
    team: str | None = None
    birth_date: date | None = None
    provided: frozenset[str] = field(default_factory=frozenset)


class _FieldError(Exception):
    pass


# --- reference data ----------------------------------------------------------------------------

US_STATES: dict[str, str] = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois", "IN": "Indiana",
    "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana", "ME": "Maine", "MD": "Maryland",
    "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota", "MS": "Mississippi", "MO": "Missouri",
    "MT": "Montana", "NE": "Nebraska", "NV": "Nevada", "NH": "New Hampshire", "NJ": "New Jersey",
    "NM": "New Mexico", "NY": "New York", "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio",
    "OK": "Oklahoma", "OR": "Oregon", "PA": "Pennsylvania", "RI": "Rhode Island",
    "SC": "South Carolina", "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas", "UT": "Utah",
    "VT": "Vermont", "VA": "Virginia", "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin",
    "WY": "Wyoming",
    "PR": "Puerto Rico", "GU": "Guam", "VI": "U.S. Virgin Islands", "AS": "American Samoa",
    "MP": "Northern Mariana Islands", "FM": "Federated States of Micronesia", "MH": "Marshall Islands",
    "PW": "Palau", "AA": "Armed Forces Americas", "AE": "Armed Forces Europe", "AP": "Armed Forces Pacific",
}

#: State → IANA zone where most of its people live. An approximation: about a dozen states span two
#: zones (e.g. TX, FL, TN, KY, IN, MI, ID, OR, NE, KS, ND, SD); pass a ``timezone`` column to be exact.
STATE_TIMEZONES: dict[str, str] = {
    "AL": "America/Chicago", "AK": "America/Anchorage", "AZ": "America/Phoenix",
    "AR": "America/Chicago", "CA": "America/Los_Angeles", "CO": "America/Denver",
    "CT": "America/New_York", "DE": "America/New_York", "DC": "America/New_York",
    "FL": "America/New_York", "GA": "America/New_York", "HI": "Pacific/Honolulu", "ID": "America/Boise",
    "IL": "America/Chicago", "IN": "America/Indiana/Indianapolis", "IA": "America/Chicago",
    "KS": "America/Chicago", "KY": "America/New_York", "LA": "America/Chicago", "ME": "America/New_York",
    "MD": "America/New_York", "MA": "America/New_York", "MI": "America/Detroit", "MN": "America/Chicago",
    "MS": "America/Chicago", "MO": "America/Chicago", "MT": "America/Denver", "NE": "America/Chicago",
    "NV": "America/Los_Angeles", "NH": "America/New_York", "NJ": "America/New_York",
    "NM": "America/Denver", "NY": "America/New_York", "NC": "America/New_York", "ND": "America/Chicago",
    "OH": "America/New_York", "OK": "America/Chicago", "OR": "America/Los_Angeles",
    "PA": "America/New_York", "RI": "America/New_York", "SC": "America/New_York",
    "SD": "America/Chicago", "TN": "America/Chicago", "TX": "America/Chicago", "UT": "America/Denver",
    "VT": "America/New_York", "VA": "America/New_York", "WA": "America/Los_Angeles",
    "WV": "America/New_York", "WI": "America/Chicago", "WY": "America/Denver",
    "PR": "America/Puerto_Rico", "GU": "Pacific/Guam", "VI": "America/St_Thomas",
    "AS": "Pacific/Pago_Pago", "MP": "Pacific/Saipan", "FM": "Pacific/Pohnpei", "MH": "Pacific/Majuro",
    "PW": "Pacific/Palau",
}

#: USPS codes that are also ISO 3166-2 subdivisions of the US (``US-TX``): not FM, MH, PW (countries of their
#: own) nor the military AA, AE, AP.
US_ISO_SUBDIVISIONS: frozenset[str] = frozenset(US_STATES) - {"FM", "MH", "PW", "AA", "AE", "AP"}

#: ISO 3166-2 subdivision outside the US → IANA zone where most of its people live (same approximation as
#: ``STATE_TIMEZONES``): the provinces and territories of Canada, the states of Australia and of Mexico.
REGION_TIMEZONES: dict[str, str] = {
    "CA-AB": "America/Edmonton", "CA-BC": "America/Vancouver", "CA-MB": "America/Winnipeg",
    "CA-NB": "America/Moncton", "CA-NL": "America/St_Johns", "CA-NS": "America/Halifax",
    "CA-NT": "America/Yellowknife", "CA-NU": "America/Iqaluit", "CA-ON": "America/Toronto",
    "CA-PE": "America/Halifax", "CA-QC": "America/Toronto", "CA-SK": "America/Regina",
    "CA-YT": "America/Whitehorse",
    "AU-ACT": "Australia/Sydney", "AU-NSW": "Australia/Sydney", "AU-NT": "Australia/Darwin",
    "AU-QLD": "Australia/Brisbane", "AU-SA": "Australia/Adelaide", "AU-TAS": "Australia/Hobart",
    "AU-VIC": "Australia/Melbourne", "AU-WA": "Australia/Perth",
    "MX-AGU": "America/Mexico_City", "MX-BCN": "America/Tijuana", "MX-BCS": "America/Mazatlan",
    "MX-CAM": "America/Merida", "MX-CHH": "America/Chihuahua", "MX-CHP": "America/Mexico_City",
    "MX-CMX": "America/Mexico_City", "MX-COA": "America/Monterrey", "MX-COL": "America/Mexico_City",
    "MX-DUR": "America/Monterrey", "MX-GRO": "America/Mexico_City", "MX-GUA": "America/Mexico_City",
    "MX-HID": "America/Mexico_City", "MX-JAL": "America/Mexico_City", "MX-MEX": "America/Mexico_City",
    "MX-MIC": "America/Mexico_City", "MX-MOR": "America/Mexico_City", "MX-NAY": "America/Mazatlan",
    "MX-NLE": "America/Monterrey", "MX-OAX": "America/Mexico_City", "MX-PUE": "America/Mexico_City",
    "MX-QUE": "America/Mexico_City", "MX-ROO": "America/Cancun", "MX-SIN": "America/Mazatlan",
    "MX-SLP": "America/Mexico_City", "MX-SON": "America/Hermosillo", "MX-TAB": "America/Mexico_City",
    "MX-TAM": "America/Monterrey", "MX-TLA": "America/Mexico_City", "MX-VER": "America/Mexico_City",
    "MX-YUC": "America/Merida", "MX-ZAC": "America/Mexico_City",
}

#: Country → its zone, for countries where one zone covers (nearly) everyone. Countries spanning several
#: (CA, AU, MX, BR, RU, ES with the Canaries, …) are not here: their zone comes from the region or the file.
COUNTRY_TIMEZONES: dict[str, str] = {
    # Europe
    "AT": "Europe/Vienna", "BE": "Europe/Brussels", "BG": "Europe/Sofia", "CH": "Europe/Zurich",
    "CY": "Asia/Nicosia", "CZ": "Europe/Prague", "DE": "Europe/Berlin", "DK": "Europe/Copenhagen",
    "EE": "Europe/Tallinn", "FI": "Europe/Helsinki", "FR": "Europe/Paris", "GB": "Europe/London",
    "GR": "Europe/Athens", "HR": "Europe/Zagreb", "HU": "Europe/Budapest", "IE": "Europe/Dublin",
    "IS": "Atlantic/Reykjavik", "IT": "Europe/Rome", "LT": "Europe/Vilnius", "LU": "Europe/Luxembourg",
    "LV": "Europe/Riga", "MD": "Europe/Chisinau", "MT": "Europe/Malta", "NL": "Europe/Amsterdam",
    "NO": "Europe/Oslo", "PL": "Europe/Warsaw", "RO": "Europe/Bucharest", "RS": "Europe/Belgrade",
    "SE": "Europe/Stockholm", "SI": "Europe/Ljubljana", "SK": "Europe/Bratislava", "TR": "Europe/Istanbul",
    # The Americas
    "AR": "America/Argentina/Buenos_Aires", "BB": "America/Barbados", "BO": "America/La_Paz",
    "BS": "America/Nassau", "BZ": "America/Belize", "CO": "America/Bogota", "CR": "America/Costa_Rica",
    "CU": "America/Havana", "DO": "America/Santo_Domingo", "GT": "America/Guatemala", "GY": "America/Guyana",
    "HN": "America/Tegucigalpa", "HT": "America/Port-au-Prince", "JM": "America/Jamaica",
    "NI": "America/Managua", "PA": "America/Panama", "PE": "America/Lima", "PR": "America/Puerto_Rico",
    "PY": "America/Asuncion", "SV": "America/El_Salvador", "TT": "America/Port_of_Spain",
    "UY": "America/Montevideo", "VE": "America/Caracas",
    # Asia, Africa, Oceania
    "AE": "Asia/Dubai", "BD": "Asia/Dhaka", "CN": "Asia/Shanghai", "HK": "Asia/Hong_Kong",
    "IL": "Asia/Jerusalem", "IN": "Asia/Kolkata", "JP": "Asia/Tokyo", "KR": "Asia/Seoul", "LK": "Asia/Colombo",
    "MY": "Asia/Kuala_Lumpur", "NP": "Asia/Kathmandu", "PH": "Asia/Manila", "PK": "Asia/Karachi",
    "SA": "Asia/Riyadh", "SG": "Asia/Singapore", "TH": "Asia/Bangkok", "TW": "Asia/Taipei",
    "VN": "Asia/Ho_Chi_Minh",
    "EG": "Africa/Cairo", "ET": "Africa/Addis_Ababa", "GH": "Africa/Accra", "KE": "Africa/Nairobi",
    "MA": "Africa/Casablanca", "NG": "Africa/Lagos", "ZA": "Africa/Johannesburg",
    "NZ": "Pacific/Auckland",
}

#: Names and abbreviations people write for a subdivision besides its ISO code and name (folded as
#: ``_fold`` folds them), by country.
_REGION_ALIASES: dict[str, dict[str, str]] = {
    "CA": {"pq": "CA-QC", "que": "CA-QC", "nf": "CA-NL", "nfld": "CA-NL", "newfoundland": "CA-NL",
           "labrador": "CA-NL", "pei": "CA-PE", "nwt": "CA-NT", "yk": "CA-YT", "yukonterritory": "CA-YT",
           "ont": "CA-ON", "alta": "CA-AB", "sask": "CA-SK", "man": "CA-MB"},
}


def _name_key(value: str) -> str:
    return re.sub(r"[^a-z]", "", value.lower())


_STATE_BY_NAME: dict[str, str] = {_name_key(name): code for code, name in US_STATES.items()}
_STATE_BY_NAME.update({"virginislands": "VI", "usvirginislands": "VI", "washingtondc": "DC",
                       "micronesia": "FM", "northernmarianas": "MP"})

_COUNTRY_BY_NAME: dict[str, str] = {
    "usa": "US", "us": "US", "unitedstates": "US", "unitedstatesofamerica": "US", "america": "US",
    "uk": "GB", "unitedkingdom": "GB", "greatbritain": "GB", "england": "GB", "scotland": "GB",
    "wales": "GB", "northernireland": "GB", "canada": "CA", "can": "CA", "mexico": "MX", "mex": "MX",
    "germany": "DE", "france": "FR", "spain": "ES", "italy": "IT", "ireland": "IE", "india": "IN",
    "australia": "AU", "netherlands": "NL", "brazil": "BR", "china": "CN", "japan": "JP",
    "philippines": "PH", "puertorico": "PR",
}
# phonenumbers' regions cover ISO 3166 alpha-2 except a few uninhabited territories.
_COUNTRY_CODES = frozenset(phonenumbers.SUPPORTED_REGIONS) | {"UM", "AQ", "BV", "HM", "GS", "TF"}


def _fold(value: str) -> str:
    """Lowercase letters and digits only, accents removed: ``Québec`` and ``QUEBEC`` are ``quebec``."""
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(ch for ch in decomposed if ch.isalnum() and not unicodedata.combining(ch)).casefold()


def _subdivision_names(name: str) -> Iterator[str]:
    """The ways ISO's English name of a subdivision can be written: ``Asturias, Principado de`` is also
    ``Asturias``; ``Newport [Casnewydd GB-CNW]`` also ``Casnewydd``; ``Bolama / Bijagós`` also each part."""
    bracketed = re.findall(r"\[([^\]]*)\]", name)
    plain = re.sub(r"\s*\[[^\]]*\]", "", name).strip()
    yield plain
    yield plain.split(",")[0]
    yield plain.split("(")[0]
    yield from plain.split("/")
    for alternative in bracketed:
        yield re.sub(r"\b[A-Z]{2}-[A-Z0-9]{1,3}\b", "", alternative)


@cache
def _subdivisions(country: str) -> tuple[frozenset[str], dict[str, str]]:
    """(ISO 3166-2 codes, folded name → code) of a country's subdivisions; a name that two subdivisions
    share is kept only if just one of them is a top-level subdivision."""
    import pycountry  # here, not at the top: loaded on the first region outside the US

    found = pycountry.subdivisions.get(country_code=country) or ()  # type: ignore[no-untyped-call]
    codes: set[str] = set()
    top: set[str] = set()
    candidates: dict[str, set[str]] = {}
    for subdivision in found:
        code = str(subdivision.code)
        codes.add(code)
        if getattr(subdivision, "parent_code", None) is None:
            top.add(code)
        for name in _subdivision_names(str(subdivision.name)):
            key = _fold(name)
            if key:
                candidates.setdefault(key, set()).add(code)
    by_name: dict[str, str] = {}
    for key, matches in candidates.items():
        chosen = matches if len(matches) == 1 else matches & top
        if len(chosen) == 1:
            by_name[key] = next(iter(chosen))
    by_name.update(_REGION_ALIASES.get(country, {}))
    return frozenset(codes), by_name


def subdivision_code(country: str, value: str) -> str | None:
    """ISO 3166-2 code of a subdivision of ``country`` (alpha-2) written as its code (``ON``, ``CA-ON``,
    ``N.S.``), its ISO name in any case and with or without accents (``Ontario``, ``Quebec``), or a common
    abbreviation (``Nfld``); None when it is none of these."""
    if country == "US":
        state = value.strip().upper().replace(".", "")
        state = state if state in US_STATES else _STATE_BY_NAME.get(_name_key(value), "")
        return f"US-{state}" if state in US_ISO_SUBDIVISIONS else None
    codes, by_name = _subdivisions(country)
    if not codes:
        return None
    compact = re.sub(r"[\s.]", "", value).upper()
    if compact in codes:
        return compact
    if f"{country}-{compact}" in codes:
        return f"{country}-{compact}"
    return by_name.get(_fold(value))


@lru_cache(maxsize=1024)
def _iso_country(value: str) -> str | None:
    """Alpha-2 code for an ISO 3166 alpha-3 code or country name (``CAN``, ``Germany``), or None."""
    import pycountry

    try:
        return str(pycountry.countries.lookup(value.strip()).alpha_2)
    except LookupError:
        return None

_PHONE_TYPES: dict[str, str] = {"cell": "cell", "mobile": "cell", "cellphone": "cell", "home": "home",
                                "landline": "home", "work": "work", "office": "work", "business": "work"}

_MAX_LENGTHS: dict[str, int] = {
    "external_id": 120, "first_name": 120, "middle_name": 120, "last_name": 120, "email": 320,
    "city": 120, "employer": 200, "title": 200, "assignee": 120, "team": 120, "address": 2000,
    "linkedin_url": 500, "state": 120,
}

_ZIP = re.compile(r"(\d{5})(?:[\s-]?(\d{4}))?")


@cache
def _known_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


# --- field parsers: each returns the normalized value or raises _FieldError(message) -----------


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):  # before date: a datetime is a date
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    raise _FieldError("must be a single value, not a list or object")


_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_birth_date(value: str) -> date:
    """A birth date from ``YYYY-MM-DD`` or ``MM/DD/YYYY``; ValueError if it is not a plausible one."""
    text = value.strip()
    try:
        match = _US_DATE.fullmatch(text)
        if match:
            born = date(int(match.group(3)), int(match.group(1)), int(match.group(2)))
        elif _ISO_DATE.fullmatch(text):
            born = date.fromisoformat(text)
        else:
            raise ValueError(text)
    except ValueError:
        raise ValueError("not a date (YYYY-MM-DD or MM/DD/YYYY)") from None
    if born > date.today():
        raise ValueError("is in the future")
    if born.year < 1900:
        raise ValueError("is before 1900")
    return born


def normalize_country(value: str) -> str:
    """ISO 3166 alpha-2 code for a country code or common name; ValueError if unknown."""
    upper = value.upper()
    if len(upper) == 2 and upper in _COUNTRY_CODES:
        return upper
    code = _COUNTRY_BY_NAME.get(_name_key(value)) or _iso_country(value)
    if code is None:
        raise ValueError("not an ISO 3166 country code (e.g. US) or known country name")
    return code


def normalize_us_state(value: str) -> str:
    """USPS code for a US state/territory code or name; ValueError if unknown."""
    upper = value.upper().replace(".", "")
    if upper in US_STATES:
        return upper
    code = _STATE_BY_NAME.get(_name_key(value))
    if code is None:
        raise ValueError("not a US state or territory (2-letter USPS code or full name)")
    return code


def _money(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise _FieldError("not a number")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise _FieldError("not a number")
        amount = Decimal(repr(value))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise _FieldError("not a number")
        amount = value
    elif isinstance(value, str):
        text = value.strip().replace(",", "").replace("$", "").replace(" ", "")
        negative = text.startswith("(") and text.endswith(")")
        if negative:
            text = text[1:-1]
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise _FieldError("not a number") from None
        if not amount.is_finite():
            raise _FieldError("not a number")
        if negative:
            amount = -amount
    else:
        raise _FieldError("not a number")
    if amount < 0:
        raise _FieldError("must not be negative")
    if amount != amount.quantize(Decimal("0.01")):
        raise _FieldError("must have at most 2 decimal places")
    if amount >= Decimal("1e12"):
        raise _FieldError("is too large")
    return amount


def _is_number(value: Any) -> bool:
    """A number cell or JSON number (not text that looks like one)."""
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _whole_number(value: Any) -> int:
    if isinstance(value, bool):
        raise _FieldError("not a whole number")
    if isinstance(value, int):
        number = value
    elif (isinstance(value, float) and value.is_integer()) or (
            isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value()):
        number = int(value)
    elif isinstance(value, str):
        text = value.strip().replace(",", "")
        if text.isdigit():
            number = int(text)
        else:
            try:
                parsed = Decimal(text)
            except InvalidOperation:
                raise _FieldError("not a whole number") from None
            if not parsed.is_finite() or parsed != parsed.to_integral_value():
                raise _FieldError("not a whole number")
            number = int(parsed)
    else:
        raise _FieldError("not a whole number")
    if number < 0:
        raise _FieldError("must not be negative")
    if number > 2_000_000_000:
        raise _FieldError("is too large")
    return number


# --- the validator -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Layout:
    """How one set of row keys maps to fields (computed once per distinct key set)."""

    pairs: tuple[tuple[str, str], ...]  # (original key, canonical field)
    key_of: dict[str, str]  # canonical field -> original key
    provided: frozenset[str]
    length_checks: tuple[tuple[str, int], ...]


def duplicate_error(row_number: int, external_id: str, first_row: int) -> RowError:
    """The error of a row whose external id an earlier row of the file (``first_row``) already has."""
    return RowError(row_number, "external_id", external_id,
                    f"duplicate external_id {external_id!r} (first seen on row {first_row})")


class LeadValidator:
    """Validates rows one at a time, remembering external ids (duplicates) and column warnings.

    ``validate`` returns the normalized row, or None and the row's errors (all of them). ``external_id`` is then
    the row's external id (valid row or not; None when it has none). With ``check_duplicates=False`` the
    caller checks repeated external ids itself (the import does, on disk: a million ids are no small dict).
    """

    def __init__(self, *, check_duplicates: bool = True) -> None:
        self.warnings: list[str] = []
        self.external_id: str | None = None
        self._layouts: dict[tuple[str, ...], _Layout] = {}
        self._warned: set[str] = set()
        self._seen_ids: dict[str, int] | None = {} if check_duplicates else None

    def _layout(self, keys: tuple[str, ...]) -> _Layout:
        layout = self._layouts.get(keys)
        if layout is not None:
            return layout
        key_of: dict[str, str] = {}
        for key in keys:
            if key == _EXTRA_VALUES:
                continue
            canonical = _COLUMN_LOOKUP.get(normalize_column_name(key))
            if canonical is None:
                self._warn(key, f"unknown column {key!r} ignored")
            elif canonical in key_of:
                self._warn(key, f"column {key!r} ignored: column {key_of[canonical]!r} already gives "
                                f"{canonical}")
            else:
                key_of[canonical] = key
        provided = set(key_of)
        if "state" in provided or "country" in provided:
            provided.add("timezone")
        if "state" in provided:
            provided.update(("region", "region_code"))
        if "linkedin_url" in provided:
            provided.add("linkedin_public_id")
        layout = _Layout(
            pairs=tuple((key, canonical) for canonical, key in key_of.items()), key_of=key_of,
            provided=frozenset(provided),
            length_checks=tuple((name, limit) for name, limit in _MAX_LENGTHS.items() if name in key_of),
        )
        self._layouts[keys] = layout
        return layout

    def _warn(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            self.warnings.append(message)

    def validate(self, row_number: int,
                 raw: Mapping[str, Any]) -> tuple[LeadImportRow | None, list[RowError]]:
        layout = self._layout(tuple(raw))
        errors: list[RowError] = []
        values: dict[str, Any] = {}
        for key, canonical in layout.pairs:
            original = raw[key]
            if type(original) is str:
                values[canonical] = original.strip() or None
                continue
            try:
                values[canonical] = _text(original)
            except _FieldError as exc:
                errors.append(RowError(row_number, canonical, original, str(exc)))
                values[canonical] = None
        if _EXTRA_VALUES in raw:
            extra = raw[_EXTRA_VALUES]
            errors.append(RowError(row_number, None, extra,
                                   f"the row has {len(extra)} more value(s) than the header has columns"))

        def fail(name: str, message: str) -> None:
            key = layout.key_of.get(name)
            errors.append(RowError(row_number, name, raw[key] if key is not None else None, message))

        for name, limit in layout.length_checks:
            text = values[name]
            if text is not None and len(text) > limit:
                fail(name, f"is longer than {limit} characters")
                values[name] = None

        get = values.get
        for name in ("external_id", "first_name", "last_name"):
            if get(name) is None and not any(e.field == name for e in errors):
                fail(name, "is required")
        external_id = self.external_id = get("external_id")
        if external_id is not None and self._seen_ids is not None:
            first = self._seen_ids.get(external_id)
            if first is not None:
                errors.append(duplicate_error(row_number, external_id, first))
            else:
                self._seen_ids[external_id] = row_number

        country = get("country")
        if country is not None:
            try:
                country = values["country"] = normalize_country(country)
            except ValueError as exc:
                fail("country", str(exc))
                country = values["country"] = None
        is_us = country is None or country == "US"

        email = get("email")
        if email is not None:
            try:
                values["email"] = normalize_email(email)
            except ValueError as exc:
                fail("email", str(exc))

        phone = get("phone")
        if phone is not None:
            region = "US" if is_us or country not in phonenumbers.SUPPORTED_REGIONS else country
            try:
                values["phone"] = normalize_phone(phone, region)
            except ValueError as exc:
                fail("phone", str(exc))

        phone_type = get("phone_type")
        if phone_type is not None:
            mapped = _PHONE_TYPES.get(phone_type.lower()) or _PHONE_TYPES.get(_name_key(phone_type))
            if mapped is None:
                fail("phone_type", "must be one of cell, home, work")
            values["phone_type"] = mapped

        # ``state`` (the column) is stored as given in ``region``; the USPS code goes to ``state`` for US leads
        # only, since US rules key on it; ``region_code`` is the ISO 3166-2 code when there is one.
        state: str | None = None
        region_code: str | None = None
        region_text = get("state")
        if region_text is not None:
            values["region"] = region_text
            if is_us:
                try:
                    state = normalize_us_state(region_text)
                except ValueError as exc:
                    fail("state", f"{exc}; for a lead outside the US, fill in the country")
                else:
                    region_code = f"US-{state}" if state in US_ISO_SUBDIVISIONS else None
            else:
                assert country is not None
                region_code = subdivision_code(country, region_text)
            values["state"], values["region_code"] = state, region_code

        postal = get("postal_code")
        if postal is not None:
            if is_us:
                if _is_number(raw[layout.key_of["postal_code"]]) and postal.isdigit() and len(postal) <= 9:
                    postal = postal.zfill(5 if len(postal) <= 5 else 9)  # a ZIP a spreadsheet made a number
                match = _ZIP.fullmatch(postal)
                if match is None:
                    fail("postal_code", "not a US ZIP code (12345 or 12345-6789)")
                else:
                    plus4 = match.group(2)
                    values["postal_code"] = f"{match.group(1)}-{plus4}" if plus4 else match.group(1)
            elif len(postal) > 16:
                fail("postal_code", "is longer than 16 characters")

        timezone = get("timezone")
        if timezone is not None:
            if timezone not in _known_timezones():
                fail("timezone", "not an IANA time zone name (e.g. America/New_York)")
        elif is_us:
            if state is not None:
                values["timezone"] = STATE_TIMEZONES.get(state)
        else:
            assert country is not None
            values["timezone"] = (REGION_TIMEZONES.get(region_code) if region_code else None) \
                or COUNTRY_TIMEZONES.get(country)

        linkedin = get("linkedin_url")
        if linkedin is not None:
            normalized = normalize_linkedin_url(linkedin)
            if normalized is None:
                fail("linkedin_url", "not a LinkedIn profile URL")
            else:
                values["linkedin_url"], values["linkedin_public_id"] = normalized

        if get("balance") is not None:
            try:
                values["balance"] = _money(raw[layout.key_of["balance"]])
            except _FieldError as exc:
                fail("balance", str(exc))
        if get("days_delinquent") is not None:
            try:
                values["days_delinquent"] = _whole_number(raw[layout.key_of["days_delinquent"]])
            except _FieldError as exc:
                fail("days_delinquent", str(exc))

        if get("birth_date") is not None:
            try:
                values["birth_date"] = parse_birth_date(values["birth_date"])
            except ValueError as exc:
                fail("birth_date", str(exc))

        if errors:
            return None, errors
        return LeadImportRow(row=row_number, provided=layout.provided, **values), []
