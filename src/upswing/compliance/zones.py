"""Where a lead may be: IANA time zones from a US address (state, ZIP) or a phone's area code. Pure data.

The ZIP tables work on the first three digits (the USPS sectional centre), which is enough to place most
addresses; prefixes that straddle a time-zone line map to every zone they touch, so the contact guard asks
that a time be convenient in all of them (Regulation F's rule for uncertain locations).
"""

from __future__ import annotations

from functools import cache, lru_cache
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import PhoneNumberType
from phonenumbers import timezone as phone_timezone

from upswing.lead.importer import STATE_TIMEZONES

#: Every zone of the contiguous US, Eastern to Pacific (Arizona's no-DST zone included): where a consumer may
#: be when nothing about the location is known. Intersecting 08:00–21:00 in all of them gives 11:00–21:00 ET.
CONTIGUOUS_US_ZONES: tuple[str, ...] = (
    "America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
)

#: States split across zones: the zones besides the main one (``STATE_TIMEZONES``) where some residents live.
STATE_MINORITY_ZONES: dict[str, tuple[str, ...]] = {
    "AK": ("America/Adak",), "FL": ("America/Chicago",), "ID": ("America/Los_Angeles",),
    "IN": ("America/Chicago",), "KS": ("America/Denver",), "KY": ("America/Chicago",),
    "MI": ("America/Menominee",), "ND": ("America/Denver",), "NE": ("America/Denver",),
    "NV": ("America/Denver",), "OR": ("America/Boise",), "SD": ("America/Denver",),
    "TN": ("America/New_York",), "TX": ("America/Denver",),
}

# First three ZIP digits → state, as inclusive ranges (USPS prefix assignments; military codes left out).
_ZIP3_STATES: tuple[tuple[int, int, str], ...] = (
    (5, 5, "NY"), (6, 7, "PR"), (8, 8, "VI"), (9, 9, "PR"), (10, 27, "MA"), (28, 29, "RI"), (30, 38, "NH"),
    (39, 49, "ME"), (50, 54, "VT"), (55, 55, "MA"), (56, 59, "VT"), (60, 69, "CT"), (70, 89, "NJ"),
    (100, 149, "NY"), (150, 196, "PA"), (197, 199, "DE"), (200, 200, "DC"), (201, 201, "VA"), (202, 205, "DC"),
    (206, 219, "MD"), (220, 246, "VA"), (247, 268, "WV"), (270, 289, "NC"), (290, 299, "SC"), (300, 319, "GA"),
    (320, 339, "FL"), (341, 349, "FL"), (350, 369, "AL"), (370, 385, "TN"), (386, 397, "MS"), (398, 399, "GA"),
    (400, 427, "KY"), (430, 459, "OH"), (460, 479, "IN"), (480, 499, "MI"), (500, 528, "IA"), (530, 549, "WI"),
    (550, 567, "MN"), (569, 569, "DC"), (570, 577, "SD"), (580, 588, "ND"), (590, 599, "MT"), (600, 629, "IL"),
    (630, 658, "MO"), (660, 679, "KS"), (680, 693, "NE"), (700, 714, "LA"), (716, 729, "AR"), (730, 731, "OK"),
    (733, 733, "TX"), (734, 749, "OK"), (750, 799, "TX"), (800, 816, "CO"), (820, 831, "WY"), (832, 838, "ID"),
    (840, 847, "UT"), (850, 865, "AZ"), (870, 884, "NM"), (885, 885, "TX"), (889, 898, "NV"), (900, 961, "CA"),
    (967, 968, "HI"), (969, 969, "GU"), (970, 979, "OR"), (980, 994, "WA"), (995, 999, "AK"),
)

# ZIP prefixes whose zone differs from their state's main zone (all zones listed where a prefix straddles a line).
_ZIP3_ZONES: dict[int, tuple[str, ...]] = {
    # Florida panhandle west of the Apalachicola river: Central.
    324: ("America/Chicago", "America/New_York"), 325: ("America/Chicago",),
    # Western Kentucky: Central.
    420: ("America/Chicago",), 421: ("America/Chicago",), 422: ("America/Chicago",), 423: ("America/Chicago",),
    424: ("America/Chicago",), 425: ("America/New_York", "America/Chicago"),
    426: ("America/New_York", "America/Chicago"), 427: ("America/New_York", "America/Chicago"),
    # East Tennessee: Eastern.
    373: ("America/New_York", "America/Chicago"), 374: ("America/New_York",), 376: ("America/New_York",),
    377: ("America/New_York",), 378: ("America/New_York",), 379: ("America/New_York",),
    # Northwest (Gary) and southwest (Evansville) Indiana: Central.
    463: ("America/Chicago",), 464: ("America/Chicago",), 476: ("America/Chicago",), 477: ("America/Chicago",),
    # Michigan's Upper Peninsula: four counties on Central time.
    498: ("America/Detroit", "America/Menominee"), 499: ("America/Detroit", "America/Menominee"),
    # Western Dakotas, Nebraska panhandle, far-west Kansas: Mountain.
    576: ("America/Chicago", "America/Denver"), 577: ("America/Denver",), 586: ("America/Denver",),
    691: ("America/Chicago", "America/Denver"), 693: ("America/Denver",), 677: ("America/Chicago", "America/Denver"),
    # El Paso and Hudspeth County, Texas: Mountain.
    798: ("America/Denver", "America/Chicago"), 799: ("America/Denver",), 885: ("America/Denver",),
    # Idaho north of the Salmon River: Pacific.
    835: ("America/Los_Angeles",), 838: ("America/Los_Angeles",),
    # Malheur County, Oregon: Mountain.
    979: ("America/Los_Angeles", "America/Boise"),
}

# Single ZIP codes that the prefix tables place wrongly.
_ZIP5: dict[str, tuple[str, tuple[str, ...]]] = {
    "96799": ("AS", ("Pacific/Pago_Pago",)),
    "96939": ("PW", ("Pacific/Palau",)), "96940": ("PW", ("Pacific/Palau",)),
    "96941": ("FM", ("Pacific/Pohnpei",)), "96942": ("FM", ("Pacific/Chuuk",)),
    "96943": ("FM", ("Pacific/Kosrae",)), "96944": ("FM", ("Pacific/Chuuk",)),
    "96950": ("MP", ("Pacific/Saipan",)), "96951": ("MP", ("Pacific/Saipan",)),
    "96952": ("MP", ("Pacific/Saipan",)),
    "96960": ("MH", ("Pacific/Majuro",)), "96970": ("MH", ("Pacific/Majuro",)),
    "99546": ("AK", ("America/Adak",)), "99547": ("AK", ("America/Adak",)),
    "89883": ("NV", ("America/Denver",)),
}


def _zip5(postal_code: str | None) -> str | None:
    if not postal_code:
        return None
    digits = postal_code.strip()[:5]
    return digits if len(digits) == 5 and digits.isdigit() else None


def state_for_zip(postal_code: str | None) -> str | None:
    """The US state (USPS code) a ZIP code belongs to, or None if it is not a known US ZIP."""
    zip5 = _zip5(postal_code)
    if zip5 is None:
        return None
    if zip5 in _ZIP5:
        return _ZIP5[zip5][0]
    prefix = int(zip5[:3])
    for low, high, state in _ZIP3_STATES:
        if low <= prefix <= high:
            return state
    return None


def zones_for_zip(postal_code: str | None) -> tuple[str, ...]:
    """Every zone a US ZIP code reaches into (empty when the ZIP is unknown)."""
    zip5 = _zip5(postal_code)
    if zip5 is None:
        return ()
    if zip5 in _ZIP5:
        return _ZIP5[zip5][1]
    prefix = int(zip5[:3])
    if prefix in _ZIP3_ZONES:
        return _ZIP3_ZONES[prefix]
    state = state_for_zip(zip5)
    return (STATE_TIMEZONES[state],) if state in STATE_TIMEZONES else ()


def zones_for_state(state: str | None) -> tuple[str, ...]:
    """The main zone of a US state or territory and, for split states, the others (empty if unknown)."""
    if not state:
        return ()
    code = state.strip().upper()
    main = STATE_TIMEZONES.get(code)
    return (main, *STATE_MINORITY_ZONES.get(code, ())) if main else ()


def address_zones(*, timezone: str | None, state: str | None, postal_code: str | None,
                  country: str | None) -> tuple[str, ...]:
    """Zones the lead's address places them in: the lead's own zone when set (else the state's zones), plus
    the ZIP's zones when they differ — a disagreement is conflicting information, so both count."""
    zones: list[str] = []
    if timezone and is_known_zone(timezone):
        zones.append(timezone)
    us = country is None or country.upper() in ("US", "PR", "VI", "GU", "AS", "MP")
    if us:
        zip_zones = zones_for_zip(postal_code)
        if not zones:
            zones.extend(zones_for_state(state) if not zip_zones else ())
        zones.extend(zip_zones)
    return tuple(dict.fromkeys(zones))


@lru_cache(maxsize=8192)  # parsing a number is the slowest step of a check; the answer never changes
def phone_zones(number: str | None, *, region: str = "US") -> tuple[str, ...]:
    """Zones a phone's area code points to; empty for toll-free, non-geographic or unparseable numbers."""
    if not number:
        return ()
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return ()
    if not phonenumbers.is_valid_number(parsed):
        return ()
    if phonenumbers.number_type(parsed) in (PhoneNumberType.TOLL_FREE, PhoneNumberType.PREMIUM_RATE,
                                            PhoneNumberType.SHARED_COST, PhoneNumberType.UAN,
                                            PhoneNumberType.PERSONAL_NUMBER, PhoneNumberType.VOIP):
        return ()
    zones = tuple(z for z in phone_timezone.time_zones_for_number(parsed) if is_known_zone(z))
    return zones


@cache
def is_known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        return False
    return not name.startswith("Etc/Unknown")


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)
