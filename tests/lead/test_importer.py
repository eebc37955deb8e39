"""Lead import files: reading CSV/JSON/JSONL, the column mapping and per-field validation (no database)."""

from __future__ import annotations

import io
import json
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
from email_validator import EmailNotValidError, validate_email

from upswing.core.errors import ValidationFailedError
from upswing.core.identifiers import _valid_us_national, normalize_email, normalize_phone
from upswing.lead.importer import (
    CANONICAL_FIELDS,
    COLUMN_ALIASES,
    STATE_TIMEZONES,
    US_STATES,
    LeadFileError,
    LeadFileReader,
    LeadImportRow,
    LeadValidator,
    RowError,
    canonical_column,
    count_rows,
    detect_format,
    iter_rows,
    write_rejects_csv,
)

GOOD = {
    "external_id": "A-1", "first_name": " Jane ", "last_name": "Doe", "email": "Jane.Doe@Example.COM",
    "phone": "(212) 555-0123", "phone_type": "Mobile", "address": "1 Main St", "city": "New York",
    "state": "new york", "postal_code": "10001-1234", "country": "USA",
    "linkedin_url": "linkedin.com/in/Jane-Doe/?trk=abc", "employer": "Acme", "title": "Analyst",
    "balance": "$1,234.56", "days_delinquent": "90", "assignee": "agent1",
}


def validate(raw: dict[str, Any], row: int = 2) -> tuple[LeadImportRow | None, list[RowError]]:
    return LeadValidator().validate(row, raw)


def fields(errors: list[RowError]) -> set[str | None]:
    return {e.field for e in errors}


# --- column mapping ---------------------------------------------------------------------------


def test_canonical_names_map_to_themselves() -> None:
    for name in CANONICAL_FIELDS:
        assert canonical_column(name) == name
    assert set(COLUMN_ALIASES) <= set(CANONICAL_FIELDS)


@pytest.mark.parametrize(("column", "field"), [
    ("id", "external_id"), ("Account Number", "external_id"), ("LOAN_ID", "external_id"),
    ("First Name", "first_name"), ("firstname", "first_name"), ("given-name", "first_name"),
    ("Surname", "last_name"), ("family_name", "last_name"), ("LastName", "last_name"),
    ("E-mail", "email"), ("email_address", "email"), ("Mobile", "phone"), ("phone number", "phone"),
    ("cell", "phone"), ("ZIP", "postal_code"), ("zipcode", "postal_code"), ("Postal", "postal_code"),
    ("LinkedIn", "linkedin_url"), ("linkedin_profile", "linkedin_url"), ("Company", "employer"),
    ("current_employer", "employer"), ("Job Title", "title"), ("position", "title"),
    ("amount_due", "balance"), ("Balance Due", "balance"), ("outstanding-balance", "balance"),
    ("DPD", "days_delinquent"), ("days past due", "days_delinquent"), ("Agent", "assignee"),
    ("assigned_to", "assignee"), ("Middle Name", "middle_name"), ("Team", "team"), ("Time Zone", "timezone"),
])
def test_aliases_case_and_separator_insensitive(column: str, field: str) -> None:
    assert canonical_column(column) == field


def test_unknown_column_is_a_warning_not_an_error() -> None:
    validator = LeadValidator()
    row, errors = validator.validate(2, {"id": "1", "first": "x", "first_name": "A", "last_name": "B",
                                         "favourite_colour": "red"})
    assert errors == [] and row is not None
    assert validator.warnings == ["unknown column 'first' ignored",
                                  "unknown column 'favourite_colour' ignored"]
    validator.validate(3, {"id": "2", "first": "x", "first_name": "A", "last_name": "B",
                           "favourite_colour": ""})
    assert len(validator.warnings) == 2  # once per column, not per row


def test_two_columns_for_one_field_first_wins_with_warning() -> None:
    validator = LeadValidator()
    row, _ = validator.validate(2, {"id": "1", "first_name": "A", "last_name": "B", "email": "a@example.com",
                                    "E-mail": "b@example.com"})
    assert row is not None and row.email == "a@example.com"
    assert "column 'E-mail' ignored" in validator.warnings[0]


# --- reading files ----------------------------------------------------------------------------


def test_detect_format() -> None:
    assert detect_format("leads.CSV", b"[") == "csv"
    assert detect_format("x.json", b"") == "json"
    assert detect_format("x.ndjson", b"") == "jsonl"
    assert detect_format("x.jsonl", b"") == "jsonl"
    assert detect_format("upload.bin", b"\xef\xbb\xbf  [{}]") == "json"
    assert detect_format(None, b'\n{"a": 1}\n{"a": 2}') == "jsonl"
    assert detect_format(None, b"id,first_name") == "csv"


def test_csv_row_numbers_count_the_header_as_row_one_and_blank_lines() -> None:
    data = "\ufeffid,first_name,last_name\r\nA,Ann,Lee\r\n\r\nB,Bo,\"Multi\nLine\"\r\n,,\r\nC,Cy,Ng\r\n"
    reader = LeadFileReader(data.encode(), filename="x.csv")
    rows = list(reader)
    assert [n for n, _ in rows] == [2, 4, 6]
    assert rows[0][1] == {"id": "A", "first_name": "Ann", "last_name": "Lee"}  # BOM stripped from header
    assert rows[1][1]["last_name"] == "Multi\nLine"
    assert reader.columns == ["id", "first_name", "last_name"] and reader.format == "csv"


def test_repeated_csv_column_names_keep_the_first() -> None:
    reader = LeadFileReader(b"id,email,email\n1,a@example.com,b@example.com\n", filename="x.csv")
    assert next(iter(reader))[1] == {"id": "1", "email": "a@example.com", "email (2)": "b@example.com"}
    assert reader.columns == ["id", "email", "email (2)"]


def test_count_rows(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("id,first_name\n1,A\n\n2,\"B\nB\"\n,\n")
    assert count_rows(path) == 2
    assert count_rows(b'[{"id": 1}, {}]', filename="x.json") == 1


def test_missing_file_is_a_file_error(tmp_path: Path) -> None:
    with pytest.raises(LeadFileError, match="cannot read"):
        LeadFileReader(tmp_path / "nope.csv")


def test_csv_semicolon_and_tab_delimiters() -> None:
    assert next(iter_rows(b"id;first_name\n1;Ann\n"))[1] == {"id": "1", "first_name": "Ann"}
    assert next(iter_rows(b"id\tfirst_name\n1\tAnn\n"))[1] == {"id": "1", "first_name": "Ann"}


def test_csv_short_rows_are_padded_and_long_rows_are_row_errors() -> None:
    rows = list(iter_rows(b"id,first_name,last_name\n1,Ann\n2,Bo,Lee,extra\n", filename="x.csv"))
    assert rows[0][1]["last_name"] == ""
    _, errors = LeadValidator().validate(rows[1][0], rows[1][1])
    assert errors[0].row == 3 and errors[0].field is None and "more value" in errors[0].message


@pytest.mark.parametrize(("data", "message"), [(b"", "empty"), (b"\n\n", "empty")])
def test_unreadable_csv_files(data: bytes, message: str) -> None:
    with pytest.raises(LeadFileError, match=message) as info:
        list(iter_rows(data, filename="x.csv"))
    assert isinstance(info.value, ValidationFailedError)


def test_json_array_items_are_numbered_from_one() -> None:
    data = json.dumps([{"id": "1"}, {}, {"id": "3", "balance": 12.5}]).encode()
    reader = LeadFileReader(data, filename="x.json")
    assert [(n, r) for n, r in reader] == [(1, {"id": "1"}), (3, {"id": "3", "balance": 12.5})]
    assert reader.columns == ["id", "balance"]


@pytest.mark.parametrize(("data", "message"), [
    (b'{"id": 1}', "array of objects"), (b"[1, 2]", "item 1 .* not an object"), (b"[{]", "invalid JSON"),
])
def test_bad_json_files(data: bytes, message: str) -> None:
    with pytest.raises(LeadFileError, match=message):
        list(iter_rows(data, filename="x.json"))


def test_jsonl_lines_are_numbered_and_bad_lines_named(tmp_path: Path) -> None:
    path = tmp_path / "leads.jsonl"
    path.write_text('{"id": "1"}\n\n{"id": "3"}\n')
    reader = LeadFileReader(path)
    assert [n for n, _ in reader] == [1, 3] and reader.filename == "leads.jsonl"
    with pytest.raises(LeadFileError, match="line 2 is not valid JSON") as info:
        list(iter_rows(io.BytesIO(b'{"id": 1}\n{oops\n'), file_format="jsonl"))
    assert info.value.row == 2
    assert info.value.errors == [{"row": 2, "field": None, "value": None,
                                  "message": "line 2 is not valid JSON: Expecting property name enclosed in "
                                             "double quotes"}]


# --- validation -------------------------------------------------------------------------------


def test_good_row_is_normalized() -> None:
    row, errors = validate(GOOD)
    assert errors == []
    assert row is not None
    assert row.external_id == "A-1" and row.first_name == "Jane"
    assert row.email == "jane.doe@example.com"
    assert row.phone == "+12125550123" and row.phone_type == "cell"
    assert row.state == "NY" and row.country == "US" and row.postal_code == "10001-1234"
    assert row.timezone == "America/New_York"
    assert row.linkedin_url == "https://www.linkedin.com/in/jane-doe" and row.linkedin_public_id == "jane-doe"
    assert row.balance == Decimal("1234.56") and row.days_delinquent == 90
    assert row.assignee == "agent1" and row.middle_name is None
    assert {"timezone", "linkedin_public_id", "balance"} <= row.provided and "team" not in row.provided


def test_empty_strings_are_missing_values() -> None:
    row, errors = validate({"external_id": "1", "first_name": "A", "last_name": "B", "email": "  ",
                            "phone": "", "balance": "", "state": ""})
    assert errors == [] and row is not None
    assert row.email is None and row.phone is None and row.balance is None and row.timezone is None
    assert "balance" in row.provided  # an empty cell clears the field on update


@pytest.mark.parametrize(("field", "value", "message"), [
    ("email", "jane@", "e-mail"), ("email", "not an email", "e-mail"), ("email", "a@b.test", "e-mail"),
    ("phone", "12345", "phone"), ("phone", "(123) 456-7890", "not a valid phone number"),
    ("phone", "call me", "not a phone number"), ("phone_type", "fax", "cell, home, work"),
    ("state", "ZZ", "US state"), ("state", "Texass", "US state"), ("postal_code", "1234", "ZIP"),
    ("postal_code", "ABCDE", "ZIP"), ("country", "Atlantis", "country"), ("balance", "-5", "negative"),
    ("balance", "(12.00)", "negative"), ("balance", "12.345", "2 decimal"),
    ("balance", "lots", "not a number"),
    ("balance", "NaN", "not a number"), ("days_delinquent", "ten", "whole number"),
    ("days_delinquent", "-1", "negative"), ("days_delinquent", "1.5", "whole number"),
    ("linkedin_url", "https://example.com/in/jane", "LinkedIn"),
    ("linkedin_url", "https://www.linkedin.com/company/acme", "LinkedIn"),
    ("timezone", "Mars/Olympus", "IANA"), ("first_name", "x" * 121, "longer than 120"),
])
def test_field_errors(field: str, value: str, message: str) -> None:
    row, errors = validate({**GOOD, field: value}, row=7)
    assert row is None
    assert [(e.row, e.field, e.value) for e in errors] == [(7, field, value)]
    assert message in errors[0].message


def test_all_problems_of_a_row_are_reported() -> None:
    row, errors = validate({**GOOD, "email": "bad", "phone": "1", "last_name": " ", "balance": "-1"})
    assert row is None and fields(errors) == {"email", "phone", "last_name", "balance"}
    assert next(e for e in errors if e.field == "last_name").message == "is required"


def test_required_fields_missing_entirely() -> None:
    row, errors = validate({"email": "a@example.com"})
    assert row is None and fields(errors) == {"external_id", "first_name", "last_name"}
    assert all(e.value is None for e in errors)


def test_duplicate_external_id_is_an_error_on_the_later_row() -> None:
    validator = LeadValidator()
    assert validator.validate(2, GOOD)[1] == []
    row, errors = validator.validate(5, {**GOOD, "email": "other@example.com"})
    assert row is None and errors[0].row == 5 and errors[0].field == "external_id"
    assert "first seen on row 2" in errors[0].message


@pytest.mark.parametrize(("value", "code"), [("tx", "TX"), ("Texas", "TX"), ("district of columbia", "DC"),
                                             ("D.C.", "DC"), ("PR", "PR"), ("Guam", "GU"), ("VI", "VI"),
                                             ("AS", "AS"), ("MP", "MP"), ("AE", "AE")])
def test_us_states_and_territories(value: str, code: str) -> None:
    row, errors = validate({**GOOD, "state": value, "timezone": ""})
    assert errors == [] and row is not None and row.state == code
    assert row.timezone == STATE_TIMEZONES.get(code)


def test_every_state_with_a_zone_has_a_known_zone() -> None:
    import zoneinfo

    assert set(STATE_TIMEZONES) <= set(US_STATES)
    assert all(code in STATE_TIMEZONES for code in US_STATES if code not in ("AA", "AE", "AP"))
    for zone in STATE_TIMEZONES.values():
        zoneinfo.ZoneInfo(zone)


def test_explicit_timezone_wins_over_the_state() -> None:
    row, _ = validate({**GOOD, "state": "TX", "timezone": "America/Denver"})
    assert row is not None and row.timezone == "America/Denver"


@pytest.mark.parametrize(("value", "code"), [("US", "US"), ("usa", "US"), ("United States", "US"),
                                             ("U.S.A.", "US"), ("United States of America", "US"),
                                             ("gb", "GB"), ("UK", "GB"), ("Canada", "CA")])
def test_countries(value: str, code: str) -> None:
    row, errors = validate({**GOOD, "country": value, "state": "", "postal_code": "", "phone": ""})
    assert errors == [] and row is not None and row.country == code


def test_non_us_rows_skip_us_state_and_zip_rules_and_parse_phones_in_their_region() -> None:
    row, errors = validate({**GOOD, "country": "GB", "state": "en", "postal_code": "SW1A 1AA",
                            "phone": "020 7946 0958"})
    assert errors == [] and row is not None
    assert (row.state, row.region, row.region_code) == (None, "en", None)  # "en" is no ISO 3166-2 code of GB
    assert (row.postal_code, row.phone, row.timezone) == ("SW1A 1AA", "+442079460958", "Europe/London")
    assert {"state", "region", "region_code", "timezone"} <= row.provided


@pytest.mark.parametrize(("value", "e164"), [
    ("212-555-0123", "+12125550123"), ("2125550123", "+12125550123"), ("+1 (212) 555 0123", "+12125550123"),
    ("1.212.555.0123", "+12125550123"), ("+44 20 7946 0958", "+442079460958"),
    ("(416) 555-0199", "+14165550199"), ("212-555-0123 ext. 9", "+12125550123"),
])
def test_phones_to_e164(value: str, e164: str) -> None:
    row, errors = validate({**GOOD, "phone": value})
    assert errors == [] and row is not None and row.phone == e164


def test_phone_fast_path_agrees_with_phonenumbers() -> None:
    rng = random.Random(7)
    for _ in range(3000):
        digits = f"{rng.randint(0, 99_999_999_999):011d}"[rng.choice((0, 1)):]  # 11 or 10 digits
        style = rng.choice(("plain", "plus", "pretty"))
        if style == "plain":
            text = digits
        elif style == "plus":
            text = "+" + digits
        else:
            text = f"{digits[:-10]} ({digits[-10:-7]}) {digits[-7:-4]}-{digits[-4:]}".strip()
        try:
            number = phonenumbers.parse(text, "US")
            expected = (phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
                        if phonenumbers.is_valid_number(number) else None)
        except phonenumbers.NumberParseException:
            expected = None
        try:
            actual: str | None = normalize_phone(text, "US")
        except ValueError:
            actual = None
        assert actual == expected, text
    for _ in range(20000):
        national = str(rng.randint(2_000_000_000, 9_999_999_999))
        number = phonenumbers.PhoneNumber(country_code=1, national_number=int(national))
        assert _valid_us_national(national) == phonenumbers.is_valid_number_for_region(number, "US"), national


def test_email_fast_path_agrees_with_email_validator() -> None:
    samples = [
        "Jane.Doe@Example.com", "a+b@sub.example.co.uk", "x@y.z", "x@y.co", "first.last@localhost",
        "a..b@example.com", ".a@example.com", "a.@example.com", "a@-example.com", "a@example-.com",
        "a@ex--ample.com", "ab--cd@example.com", "a@xn--bcher-kva.example", "a@example.123",
        "a@example.test", "a@example.local", "user@[127.0.0.1]", "\"quoted\"@example.com",
        "josé@example.com", "a@exämple.com", "a b@example.com", "a@example..com", "a@example.c",
        f"{'a' * 64}@example.com", f"{'a' * 65}@example.com", f"a@{'b' * 63}.com", f"a@{'b' * 64}.com",
        "o'brien@example.ie", "!#$%&'*+/=?^_`{|}~-@example.org", "a@b.onion", "UPPER@EXAMPLE.ORG",
    ]
    for sample in samples:
        try:
            expected: str | None = validate_email(sample, check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            expected = None
        try:
            actual: str | None = normalize_email(sample)
        except ValueError:
            actual = None
        assert actual == expected, sample


def test_json_typed_values() -> None:
    row, errors = validate({"id": 17, "first_name": "A", "last_name": "B", "balance": 1200.5,
                            "days_delinquent": 30.0, "postal_code": 10001, "phone": 2125550123})
    assert errors == [] and row is not None
    assert (row.external_id, row.balance, row.days_delinquent, row.postal_code, row.phone) == (
        "17", Decimal("1200.5"), 30, "10001", "+12125550123")
    row, errors = validate({"id": "1", "first_name": {"x": 1}, "last_name": "B", "balance": True,
                            "days_delinquent": [1]})
    assert row is None and fields(errors) == {"first_name", "balance", "days_delinquent"}
    assert next(e for e in errors if e.field == "first_name").value == {"x": 1}


def test_write_rejects_csv() -> None:
    out = io.StringIO()
    write_rejects_csv(out, ["id", "email", "error"], [
        ({"id": "1", "email": "bad", "error": "x"}, [RowError(2, "email", "bad", "is bad"),
                                                    RowError(2, None, None, "whole row")]),
        ({"id": "2", "email": {"a": 1}}, [RowError(3, "id", "2", "dup")]),
    ])
    assert out.getvalue().splitlines() == [
        "id,email,error,_error", "1,bad,x,email: is bad; whole row", '2,"{""a"": 1}",,id: dup',
    ]


def test_write_rejects_csv_neutralises_formulas() -> None:
    out = io.StringIO()
    write_rejects_csv(out, ["=id", "email", "phone", "balance"], [
        ({"=id": "=1+1", "email": "@evil", "phone": "+1 (212) 555", "balance": "-12.50"},
         [RowError(2, "email", "@evil", "not valid")]),
        ({"=id": "2", "email": "\tx", "phone": "-cmd|' /C calc'!A0", "balance": "+15551234567"},
         [RowError(3, None, None, "=oops")]),
    ])
    assert out.getvalue().splitlines() == [
        "'=id,email,phone,balance,error",
        "'=1+1,'@evil,'+1 (212) 555,-12.50,email: not valid",
        "2,'\tx,'-cmd|' /C calc'!A0,+15551234567,'=oops",
    ]
