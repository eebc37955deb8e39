"""Leads outside the US: a free-text region stored as given plus its ISO 3166-2 code, a time zone from the
province (or the country), and none of the US rules (states, ZIPs, state time zones) applied to them."""

from __future__ import annotations

import zoneinfo
from pathlib import Path
from typing import Any

import pycountry
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from upswing.compliance import rules
from upswing.compliance.service import lead_facts
from upswing.lead.importer import (
    COUNTRY_TIMEZONES,
    REGION_TIMEZONES,
    US_ISO_SUBDIVISIONS,
    LeadImportRow,
    LeadValidator,
    RowError,
    normalize_country,
    subdivision_code,
)
from upswing.lead.models import Lead
from upswing.lead.service import LeadImportFailed, import_leads

BASE = {"external_id": "C-1", "first_name": "Chloé", "last_name": "Tremblay"}


def validate(**fields: Any) -> tuple[LeadImportRow | None, list[RowError]]:
    return LeadValidator().validate(2, {**BASE, **fields})


# --- validation (no database) -------------------------------------------------------------------


@pytest.mark.parametrize(("region", "code", "zone"), [
    ("Ontario", "CA-ON", "America/Toronto"), ("ON", "CA-ON", "America/Toronto"), ("on", "CA-ON", "America/Toronto"),
    ("CA-ON", "CA-ON", "America/Toronto"), ("Ont.", "CA-ON", "America/Toronto"),
    ("Québec", "CA-QC", "America/Toronto"), ("QUEBEC", "CA-QC", "America/Toronto"), ("PQ", "CA-QC", "America/Toronto"),
    ("B.C.", "CA-BC", "America/Vancouver"), ("british columbia", "CA-BC", "America/Vancouver"),
    ("Newfoundland and Labrador", "CA-NL", "America/St_Johns"), ("Nfld", "CA-NL", "America/St_Johns"),
    ("Alberta", "CA-AB", "America/Edmonton"), ("SK", "CA-SK", "America/Regina"),
    ("Yukon", "CA-YT", "America/Whitehorse"),
    ("Prince Edward Island", "CA-PE", "America/Halifax"), ("PEI", "CA-PE", "America/Halifax"),
])
def test_a_canadian_province_gets_its_iso_code_and_zone(region: str, code: str, zone: str) -> None:
    row, errors = validate(country="CA", state=region, postal_code="M5V 3L9", phone="(416) 555-0199")
    assert errors == [] and row is not None
    assert (row.country, row.state, row.region, row.region_code, row.timezone) == ("CA", None, region, code, zone)
    assert (row.postal_code, row.phone) == ("M5V 3L9", "+14165550199")  # no ZIP rule; phone read as Canadian


def test_free_text_regions_are_kept_without_a_code() -> None:
    row, errors = validate(country="Canada", state="Greater Toronto Area", postal_code="not a zip at all")
    assert errors == [] and row is not None
    assert (row.state, row.region, row.region_code, row.postal_code) == (
        None, "Greater Toronto Area", None, "not a zip at all")
    assert row.timezone is None  # Canada spans six zones: without a province none is guessed
    _, errors = validate(country="CA", state="x" * 121)
    assert [(e.field, e.message) for e in errors] == [("state", "is longer than 120 characters")]


@pytest.mark.parametrize(("country", "region", "code", "zone"), [
    ("MX", "Jalisco", "MX-JAL", "America/Mexico_City"), ("Mexico", "Baja California", "MX-BCN", "America/Tijuana"),
    ("AU", "WA", "AU-WA", "Australia/Perth"), ("AUS", "New South Wales", "AU-NSW", "Australia/Sydney"),
    ("DE", "Bayern", "DE-BY", "Europe/Berlin"), ("GB", "Scotland", "GB-SCT", "Europe/London"),
    ("GB", "Cardiff", "GB-CRF", "Europe/London"), ("GB", "Caerdydd", "GB-CRF", "Europe/London"),  # Welsh name
    ("ES", "Asturias", "ES-AS", None),  # the community, not its one province (ES-O) of the same name
    ("FR", "Île-de-France", "FR-IDF", "Europe/Paris"),
    ("IE", "Dublin", "IE-D", "Europe/Dublin"), ("NZ", None, None, "Pacific/Auckland"),
])
def test_regions_elsewhere(country: str, region: str | None, code: str | None, zone: str | None) -> None:
    row, errors = validate(country=country, **({"state": region} if region else {}))
    assert errors == [] and row is not None
    assert (row.state, row.region, row.region_code, row.timezone) == (None, region, code, zone)


def test_an_explicit_time_zone_wins_over_the_province() -> None:
    row, _ = validate(country="CA", state="Ontario", timezone="America/Winnipeg")  # Kenora is on Central time
    assert row is not None and (row.region_code, row.timezone) == ("CA-ON", "America/Winnipeg")


def test_us_leads_keep_the_us_rules_and_get_an_iso_code_too() -> None:
    row, errors = validate(state="new york", postal_code="10001")
    assert errors == [] and row is not None
    assert (row.state, row.region, row.region_code, row.timezone) == ("NY", "new york", "US-NY", "America/New_York")
    row, _ = validate(state="AE", country="US")  # Armed Forces Europe: a USPS code, no ISO 3166-2 one
    assert row is not None and (row.state, row.region_code) == ("AE", None)
    row, errors = validate(state="Ontario", postal_code="M5V 3L9")  # no country means US
    assert row is None and [e.field for e in errors] == ["state", "postal_code"]
    assert "for a lead outside the US, fill in the country" in errors[0].message


@pytest.mark.parametrize(("value", "code"), [("CAN", "CA"), ("DEU", "DE"), ("Viet Nam", "VN"), ("mexico", "MX"),
                                             ("New Zealand", "NZ")])
def test_countries_by_alpha_3_code_or_iso_name(value: str, code: str) -> None:
    assert normalize_country(value) == code


def test_subdivision_code() -> None:
    assert subdivision_code("CA", "Nova Scotia") == "CA-NS" and subdivision_code("CA", "N.S.") == "CA-NS"
    assert subdivision_code("US", "Texas") == "US-TX" and subdivision_code("US", "Narnia") is None
    assert subdivision_code("CA", "Texas") is None and subdivision_code("CA", "") is None
    assert subdivision_code("XK", "Pristina") is None  # no subdivisions known for the country


def test_region_tables_are_iso_codes_and_known_zones() -> None:
    known = zoneinfo.available_timezones()
    subdivisions = {s.code for s in pycountry.subdivisions}
    assert set(REGION_TIMEZONES) <= subdivisions
    assert {code[:2] for code in REGION_TIMEZONES} == {"CA", "AU", "MX"}
    assert {code for code in subdivisions if code[:2] in ("CA", "AU", "MX")} == set(REGION_TIMEZONES)
    assert set(REGION_TIMEZONES.values()) | set(COUNTRY_TIMEZONES.values()) <= known
    assert {c.alpha_2 for c in pycountry.countries} >= set(COUNTRY_TIMEZONES)
    assert not {"US", "CA", "AU", "MX", "BR", "RU"} & set(COUNTRY_TIMEZONES)
    us = {s.code[3:] for s in pycountry.subdivisions.get(country_code="US")}
    assert us - {"UM"} == US_ISO_SUBDIVISIONS  # UM (outlying islands) has no USPS code


# --- import into the database -------------------------------------------------------------------


CSV = (
    "external_id,first_name,last_name,phone,city,province,postal_code,country\n"
    "C-1,Chloé,Tremblay,(416) 555-0199,Toronto,Ontario,M5V 3L9,CA\n"
    "C-2,Marc,Gagnon,514-555-0123,Montréal,QC,H2X 1Y4,Canada\n"
    "A-1,Kylie,Nguyen,+61 8 9225 5555,Perth,WA,6000,AU\n"
    "U-1,Tasha,Greene,(614) 555-2368,Columbus,OH,43215,US\n"
)


def test_canadian_and_other_non_us_leads_import(db_session: Session, tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text(CSV, encoding="utf-8")
    report = import_leads(db_session, path, actor="test")
    assert (report.created, report.rejected, report.warnings) == (4, 0, [])
    db_session.expire_all()
    leads = {lead.external_id: lead for lead in db_session.scalars(select(Lead))}
    stored = {key: (lead.country, lead.state, lead.region, lead.region_code, lead.postal_code, lead.timezone)
              for key, lead in leads.items()}
    assert stored == {
        "C-1": ("CA", None, "Ontario", "CA-ON", "M5V 3L9", "America/Toronto"),
        "C-2": ("CA", None, "QC", "CA-QC", "H2X 1Y4", "America/Toronto"),
        "A-1": ("AU", None, "WA", "AU-WA", "6000", "Australia/Perth"),
        "U-1": ("US", "OH", "OH", "US-OH", "43215", "America/New_York"),
    }
    assert leads["C-1"].phone == "+14165550199" and leads["A-1"].phone == "+61892255555"

    # The contact guard places them by their own zone, and no US state rule reaches them (Western Australia's
    # "WA" is not Washington).
    chloe, kylie = lead_facts(db_session, leads["C-1"]), lead_facts(db_session, leads["A-1"])
    assert rules.candidate_zones(chloe, None) == ("America/Toronto",)
    assert rules.candidate_zones(kylie, None) == ("Australia/Perth",)
    assert chloe.residence_states() == kylie.residence_states() == frozenset()
    assert lead_facts(db_session, leads["U-1"]).residence_states() == frozenset({"OH"})

    again = import_leads(db_session, path, actor="test")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)

    moved = CSV.replace("Toronto,Ontario,M5V 3L9,CA", "Calgary,Alberta,T2P 1J9,CA")
    path.write_text(moved, encoding="utf-8")
    assert import_leads(db_session, path, actor="test").updated == 1
    db_session.expire_all()
    lead = db_session.scalars(select(Lead).where(Lead.external_id == "C-1")).one()
    assert (lead.region, lead.region_code, lead.timezone) == ("Alberta", "CA-AB", "America/Edmonton")


def test_a_lead_that_moves_abroad_drops_its_us_state(db_session: Session) -> None:
    import_leads(db_session, b"id,first_name,last_name,state,country\n1,A,B,TX,US\n", filename="a.csv", actor="t")
    import_leads(db_session, b"id,first_name,last_name,state,country\n1,A,B,Ontario,CA\n", filename="a.csv",
                 actor="t")
    db_session.expire_all()
    lead = db_session.scalars(select(Lead)).one()
    assert (lead.country, lead.state, lead.region, lead.region_code, lead.timezone) == (
        "CA", None, "Ontario", "CA-ON", "America/Toronto")


def test_bad_rows_name_row_and_field_and_nothing_is_written(db_session: Session) -> None:
    data = (CSV + "C-3,Luc,Roy,not a phone,Ottawa,Ontario,K1A 0B1,CA\n"
                  "C-4,Anne,Roy,,Ottawa,Ontario,K1A 0B1,\n"
                  "C-5,Paul,Roy,,Ottawa,ON,K1A 0B1,Kanada\n")
    with pytest.raises(LeadImportFailed) as info:
        import_leads(db_session, data.encode(), filename="leads.csv", actor="test")
    assert [(e["row"], e["field"]) for e in info.value.errors] == [
        (6, "phone"), (7, "state"), (7, "postal_code"), (8, "country"), (8, "state"), (8, "postal_code")]
    assert db_session.scalar(select(func.count()).select_from(Lead)) == 0
