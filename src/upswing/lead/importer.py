"""Reading and validating lead import files (CSV, JSON, JSONL). Pure: no database here.

File formats
------------
* **CSV** — UTF-8 (a byte-order mark is tolerated), first line is the header (required). The
  delimiter is detected from the header line among ``,`` ``;`` tab and ``|`` (comma by default;
  ``.tsv`` files use tab). Rows whose cells are all empty are skipped.
* **JSON** — one array of objects.
* **JSONL** — one object per line; blank lines are skipped.

The format comes from the file name's extension (``.csv``/``.tsv``/``.txt``, ``.json``,
``.jsonl``/``.ndjson``); otherwise it is sniffed from the content (``[`` → JSON, ``{`` → JSONL,
anything else → CSV).

Row numbers
-----------
Errors carry the row number a person sees: for CSV it is the spreadsheet row, counting the header
as row 1, so the first data row is row 2 (blank lines count, as they do in a spreadsheet; a quoted
value spanning several lines is still one row). For JSON it is the 1-based position of the object
in the array; for JSONL the 1-based line number.

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
* ``country``: ISO 3166 alpha-2 (``USA``, ``United States`` and a few common names are accepted).
* ``state``: for US (or no country) a USPS code — the 50 states, DC, territories (PR, GU, VI, AS,
  MP), freely associated states (FM, MH, PW) and military (AA, AE, AP) — or the full name;
  elsewhere any 2-letter region code.
* ``postal_code``: for US (or no country) a ZIP code, ``12345`` or ``12345-6789``.
* ``balance``: a non-negative amount with at most 2 decimals (``$1,234.56`` is fine).
* ``days_delinquent``: a non-negative whole number.
* ``birth_date`` (optional): ``YYYY-MM-DD`` or the US ``MM/DD/YYYY``; a real date, not in the future and
  not before 1900. Stored encrypted, like e-mails, phones and addresses (docs/security.md).
* ``linkedin_url``: normalized by ``upswing.observation.apify.normalize_linkedin_url`` to the
  canonical profile URL and public id.
* ``timezone``: an IANA zone name. When absent it is derived from a US state (``STATE_TIMEZONES``:
  the zone where most of the state's people live — an approximation for states split across zones).
* Empty strings are treated as missing values.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import zoneinfo
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import IO, Any, Literal

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from upswing.core.errors import ValidationFailedError
from upswing.observation.apify import normalize_linkedin_url

FileFormat = Literal["csv", "json", "jsonl"]
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
}


def detect_format(filename: str | None, head: bytes) -> FileFormat:
    """The format from the file name's extension, else sniffed from the first bytes of content."""
    if filename:
        fmt = _EXTENSIONS.get(Path(filename).suffix.lower())
        if fmt:
            return fmt
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"["):
        return "json"
    if text.startswith(b"{"):
        return "jsonl"
    return "csv"


def _read_bytes(source: LeadSource) -> tuple[bytes, str | None]:
    if isinstance(source, bytes):
        return source, None
    if isinstance(source, str | Path):
        path = Path(source)
        try:
            return path.read_bytes(), path.name
        except OSError as exc:
            raise LeadFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
    data = source.read()
    name = getattr(source, "name", None)
    return data, Path(name).name if isinstance(name, str) else None


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise LeadFileError(f"the file is not UTF-8 text (first bad byte on line {line})", line) from exc


def _sniff_delimiter(header_line: str, filename: str | None) -> str:
    if filename and filename.lower().endswith(".tsv"):
        return "\t"
    counts = {d: header_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


class LeadFileReader:
    """Iterates the rows of an import file as ``(row_number, {original column: value})``.

    ``columns`` lists the original column names in order of first appearance (for CSV the header;
    for JSON/JSONL the union of keys seen so far). Values are as read: strings for CSV, any JSON
    value for JSON/JSONL. Rows with no non-empty value are skipped.
    """

    def __init__(self, source: LeadSource, *, filename: str | None = None,
                 file_format: FileFormat | None = None) -> None:
        data, name = _read_bytes(source)
        self.filename: str | None = filename or name
        self.format: FileFormat = file_format or detect_format(self.filename, data[:512])
        self._text = _decode(data)
        self.columns: list[str] = []
        self._seen: set[str] = set()

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any]]]:
        if self.format == "csv":
            return self._iter_csv()
        if self.format == "json":
            return self._iter_json()
        return self._iter_jsonl()

    def _add_columns(self, keys: Iterable[str]) -> None:
        for key in keys:
            if key not in self._seen:
                self._seen.add(key)
                self.columns.append(key)

    def _iter_csv(self) -> Iterator[tuple[int, dict[str, Any]]]:
        text = self._text
        first_line = text.split("\n", 1)[0]
        delimiter = _sniff_delimiter(first_line, self.filename)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            header = next(reader, None)
            while header is not None and not any(c.strip() for c in header):
                header = next(reader, None)
        except csv.Error as exc:
            raise LeadFileError(f"the CSV header cannot be read: {exc}", 1) from exc
        if header is None:
            raise LeadFileError("the file is empty: a CSV file needs a header line", 1)
        header = [h.strip() for h in header]
        if not any(header):
            raise LeadFileError("the CSV header has no column names", 1)
        seen: dict[str, int] = {}
        for i, name in enumerate(header):  # a repeated column name becomes "name (2)": an unknown column
            if name:
                seen[name] = seen.get(name, 0) + 1
                if seen[name] > 1:
                    header[i] = f"{name} ({seen[name]})"
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
        try:
            items = json.loads(self._text)
        except json.JSONDecodeError as exc:
            raise LeadFileError(f"invalid JSON on line {exc.lineno}: {exc.msg}", None) from exc
        if isinstance(items, dict) and isinstance(items.get("leads"), list):
            items = items["leads"]
        if not isinstance(items, list):
            raise LeadFileError("a JSON import file must be an array of objects")
        for index, item in enumerate(items, start=1):
            if not isinstance(item, dict):
                raise LeadFileError(f"item {index} of the JSON array is not an object", index)
            if not any(_present(v) for v in item.values()):
                continue
            self._add_columns(item)
            yield index, item

    def _iter_jsonl(self) -> Iterator[tuple[int, dict[str, Any]]]:
        for line_number, line in enumerate(self._text.splitlines(), start=1):
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


# Key under which a CSV row keeps values beyond the header's width (reported as a row error).
_EXTRA_VALUES = "\x00extra"


def iter_rows(source: LeadSource, *, filename: str | None = None,
              file_format: FileFormat | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(row_number, {original column: value})`` for each data row of an import file."""
    return iter(LeadFileReader(source, filename=filename, file_format=file_format))


def count_rows(source: LeadSource, *, filename: str | None = None, file_format: FileFormat | None = None) -> int:
    """How many data rows an import file has (blank rows not counted): a total for a progress bar."""
    return sum(1 for _ in LeadFileReader(source, filename=filename, file_format=file_format))


def write_rejects_csv(target: Path | IO[str], columns: Sequence[str],
                      rejects: Iterable[tuple[Mapping[str, Any], Sequence[RowError]]]) -> None:
    """Rejected rows as CSV: their original ``columns`` plus ``error`` ("field: message; ...")."""
    error_column = "error"
    while error_column in columns:
        error_column = f"_{error_column}"
    if isinstance(target, Path):
        with target.open("w", encoding="utf-8", newline="") as handle:
            write_rejects_csv(handle, columns, rejects)
        return
    writer = csv.writer(target)
    writer.writerow([*columns, error_column])
    for raw, errors in rejects:
        message = "; ".join(f"{e.field}: {e.message}" if e.field else e.message for e in errors)
        writer.writerow([*(_cell(raw.get(column)) for column in columns), message])


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
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
    state: str | None = None
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

_PHONE_TYPES: dict[str, str] = {"cell": "cell", "mobile": "cell", "cellphone": "cell", "home": "home",
                                "landline": "home", "work": "work", "office": "work", "business": "work"}

_MAX_LENGTHS: dict[str, int] = {
    "external_id": 120, "first_name": 120, "middle_name": 120, "last_name": 120, "email": 320,
    "city": 120, "employer": 200, "title": 200, "assignee": 120, "team": 120, "address": 2000,
    "linkedin_url": 500,
}

_ZIP = re.compile(r"(\d{5})(?:[\s-]?(\d{4}))?")
_SPECIAL_USE_TLDS = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})
# A conservative subset of what email_validator accepts (ASCII dot-atom local part, LDH labels,
# alphabetic TLD, no "--" anywhere so no IDNA questions): matching addresses skip the slower
# validator. Anything else goes to email_validator, which has the final word.
_FAST_EMAIL = re.compile(
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,63})"
)
_FAST_PHONE = re.compile(r"\+?[\d\s().\-]+")
_NON_DIGITS = re.compile(r"\D")


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
    if isinstance(value, int | float | Decimal):
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    raise _FieldError("must be a single value, not a list or object")


def normalize_email(value: str) -> str:
    """Lowercased, syntax-checked e-mail address (no DNS look-up); raises ValueError if invalid."""
    lowered = value.lower()
    match = _FAST_EMAIL.fullmatch(lowered)
    if (match and "--" not in lowered and len(lowered) <= 254 and lowered.index("@") <= 64
            and match.group(1) not in _SPECIAL_USE_TLDS):
        return lowered
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid e-mail address ({exc})") from exc


@cache
def _us_validity() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(general pattern, any-number-type pattern) of the US metadata, as phonenumbers applies them."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("US")
    assert metadata is not None and metadata.general_desc is not None
    assert metadata.general_desc.national_number_pattern is not None
    descs = [metadata.premium_rate, metadata.toll_free, metadata.shared_cost, metadata.voip,
             metadata.personal_number, metadata.pager, metadata.uan, metadata.voicemail,
             metadata.fixed_line, metadata.mobile]
    patterns = [d.national_number_pattern for d in descs if d is not None and d.national_number_pattern
                and (not d.possible_length or 10 in d.possible_length)]
    any_type = "|".join(f"(?:{p})" for p in patterns)
    return re.compile(metadata.general_desc.national_number_pattern), re.compile(any_type)


def _valid_us_national(national: str) -> bool:
    """Same verdict as ``phonenumbers.is_valid_number_for_region(number, "US")`` for a 10-digit national
    number, from the same metadata, with one regex instead of a dozen calls (20x faster)."""
    general, any_type = _us_validity()
    return general.fullmatch(national) is not None and any_type.fullmatch(national) is not None


def normalize_phone(value: str, region: str = "US") -> str:
    """E.164 form of a phone number (``region`` applies to numbers without a ``+``); ValueError if invalid."""
    if region == "US" and _FAST_PHONE.fullmatch(value):
        # Fast path for plain North American numbers: same result as phonenumbers.parse, much faster.
        digits = _NON_DIGITS.sub("", value)
        national = None
        if value.startswith("+"):
            if len(digits) == 11 and digits[0] == "1":
                national = digits[1:]
        elif len(digits) == 10:
            national = digits
        elif len(digits) == 11 and digits[0] == "1":
            national = digits[1:]
        if national is not None:
            if not _valid_us_national(national) and not phonenumbers.is_valid_number(
                    phonenumbers.PhoneNumber(country_code=1, national_number=int(national))):
                raise ValueError(f"not a valid phone number for region {region}")
            return "+1" + national
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number ({exc._msg})") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"not a valid phone number for region {region}" if not value.startswith("+")
                         else "not a valid phone number")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


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
    code = _COUNTRY_BY_NAME.get(_name_key(value))
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


def _whole_number(value: Any) -> int:
    if isinstance(value, bool):
        raise _FieldError("not a whole number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
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


class LeadValidator:
    """Validates rows one at a time, remembering external ids (duplicates) and column warnings.

    ``validate`` returns the normalized row, or None and the row's errors (all of them).
    """

    def __init__(self) -> None:
        self.warnings: list[str] = []
        self._layouts: dict[tuple[str, ...], _Layout] = {}
        self._warned: set[str] = set()
        self._seen_ids: dict[str, int] = {}

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
        external_id = get("external_id")
        if external_id is not None:
            first = self._seen_ids.get(external_id)
            if first is not None:
                fail("external_id", f"duplicate external_id {external_id!r} (first seen on row {first})")
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

        state = get("state")
        if state is not None:
            if is_us:
                try:
                    state = values["state"] = normalize_us_state(state)
                except ValueError as exc:
                    fail("state", str(exc))
                    state = None
            elif len(state) <= 2:
                state = values["state"] = state.upper()
            else:
                fail("state", "must be a 2-letter region code")
                state = None

        postal = get("postal_code")
        if postal is not None:
            if is_us:
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
        elif is_us and state is not None:
            values["timezone"] = STATE_TIMEZONES.get(state)

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
