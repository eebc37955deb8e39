"""Seniority of a job title: one ladder from intern to C-level, so that a new title at the same employer reads as
a promotion, a lateral move or a step down.

Whole numbers are bands (``INTERN`` … ``EXECUTIVE``). The jobs our borrowers hold climb in smaller steps, so
their rungs sit between bands:

* stores and restaurants: crew trainer 2.5, key holder 3.5, shift lead 4, supervisor / department manager 4.25,
  assistant manager 4.5, area manager 4.75, store / restaurant / general manager 5, district 6, regional 6.5;
* licensed clinicians and teachers rank just above a lead of the aides who assist them: LPN 4.1, RN / pharmacist /
  teacher 4.2, charge nurse / pharmacist in charge / lead teacher 4.4, NP / PA 4.6;
* military, police and fire ranks have rungs of their own (E-1 … E-9 below 4.5, warrant officers, then officers
  from 5 up; a sergeant is a first-line leader, a lieutenant a manager).

Within a band a numbered level (II, 3, Tier 2), a federal grade (GS-11, WG-7) or an apprentice year moves a title
by a fraction that stays below the next rung.

A title is parsed once (memoized): casefolded, abbreviations expanded, cut into phrases at punctuation and at
"of", "for", "and"…; "at" and "to" end a segment (what follows names the employer or the boss, not a rank). Each
phrase yields the ranks of its words, read with the modifiers before them; the title takes the highest.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from upswing.core.names import title_key

__all__ = [
    "DIRECTOR",
    "EXECUTIVE",
    "HEAD",
    "INDIVIDUAL",
    "INTERN",
    "JUNIOR",
    "LEAD",
    "MANAGER",
    "SENIOR",
    "SENIOR_MANAGER",
    "SVP",
    "VP",
    "is_founder_title",
    "seniority_level",
]

# --------------------------------------------------------------------------------------------------
# Bands and rungs
# --------------------------------------------------------------------------------------------------

INTERN = 0.0
JUNIOR = 1.0
INDIVIDUAL = 2.0
SENIOR = 3.0
LEAD = 4.0
MANAGER = 5.0
SENIOR_MANAGER = 6.0
DIRECTOR = 7.0
HEAD = 8.0  # senior director, head of …
VP = 9.0
SVP = 10.0  # SVP, EVP
EXECUTIVE = 11.0  # C-level, president, partner, managing director, founder/owner

ENTRY_SALES = 1.5  # SDR / BDR / lead generation: the rung below an account executive
SKILLED_HOURLY = 2.5  # crew trainer, forklift operator, paramedic
KEY_HOLDER = 3.5
SUPERVISOR = 4.25
ASSISTANT_MANAGER = 4.5
AREA_MANAGER = 4.75
DISTRICT_MANAGER = 6.0
REGIONAL_MANAGER = 6.5
LPN = 4.1
LICENSED = 4.2  # RN, pharmacist, teacher
ADVANCED_PRACTICE = 4.6  # nurse practitioner, physician assistant
PRINCIPAL_IC = 4.5  # principal engineer / consultant: above staff, below a manager
DISTINGUISHED_IC = 4.75

STEP = 0.05  # one numbered level (II → III); nine of them stay inside a band
GRADE_STEP = 0.02  # one federal or city pay grade (GS-15 adds 0.3)
LICENSED_LEAD = 0.2  # charge nurse over RN, pharmacist in charge over staff pharmacist
MAX_BUMP = 0.45

# --------------------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------------------

# Free-text abbreviations → words (applied per token, before phrases are read).
_EXPANSIONS: dict[str, tuple[str, ...]] = {
    "sr": ("senior",), "snr": ("senior",), "jr": ("junior",), "jnr": ("junior",),
    "mgr": ("manager",), "mngr": ("manager",), "mgmt": ("management",),
    "asst": ("assistant",), "ast": ("assistant",), "assoc": ("associate",), "dir": ("director",),
    "supv": ("supervisor",), "supvr": ("supervisor",), "spvr": ("supervisor",), "supervisory": ("supervisor",),
    "tech": ("technician",), "techs": ("technician",), "pharm": ("pharmacy",), "rph": ("pharmacist",),
    "coord": ("coordinator",), "rep": ("representative",), "exec": ("executive",), "ops": ("operations",),
    "eng": ("engineer",), "engr": ("engineer",), "dev": ("developer",), "swe": ("software", "engineer"),
    "sde": ("software", "development", "engineer"), "sdet": ("software", "engineer"),
    "csr": ("customer", "service", "representative"),
    "gm": ("general", "manager"), "agm": ("assistant", "general", "manager"), "dm": ("district", "manager"),
    "asm": ("assistant", "store", "manager"), "tl": ("team", "lead"),
    "don": ("director", "of", "nursing"), "adon": ("assistant", "director", "of", "nursing"),
    "1st": ("first",), "2nd": ("second",), "3rd": ("third",), "4th": ("fourth",), "5th": ("fifth",),
    "6th": ("sixth",),
    # Military and police ranks.
    "pvt": ("private",), "pv1": ("private",), "pv2": ("private", "e", "2"), "pfc": ("private", "first", "class"),
    "spc": ("specialist",), "cpl": ("corporal",), "lcpl": ("lance", "corporal"), "sgt": ("sergeant",),
    "ssg": ("staff", "sergeant"), "ssgt": ("staff", "sergeant"), "sfc": ("sergeant", "first", "class"),
    "tsgt": ("technical", "sergeant"), "msg": ("master", "sergeant"), "msgt": ("master", "sergeant"),
    "smsgt": ("senior", "master", "sergeant"), "cmsgt": ("chief", "master", "sergeant"),
    "1sg": ("first", "sergeant"), "1stsgt": ("first", "sergeant"), "sgm": ("sergeant", "major"),
    "sgtmaj": ("sergeant", "major"), "csm": ("command", "sergeant", "major"), "gysgt": ("gunnery", "sergeant"),
    "mgysgt": ("master", "gunnery", "sergeant"), "amn": ("airman",), "a1c": ("airman", "first", "class"),
    "sra": ("senior", "airman"), "po1": ("petty", "officer", "first", "class"),
    "po2": ("petty", "officer", "second", "class"), "po3": ("petty", "officer", "third", "class"),
    "scpo": ("senior", "chief", "petty", "officer"), "mcpo": ("master", "chief", "petty", "officer"),
    "wo1": ("warrant", "officer", "1"), "cw2": ("chief", "warrant", "officer", "2"),
    "cw3": ("chief", "warrant", "officer", "3"), "cw4": ("chief", "warrant", "officer", "4"),
    "cw5": ("chief", "warrant", "officer", "5"), "ens": ("ensign",), "ltjg": ("lieutenant", "junior", "grade"),
    "2lt": ("second", "lieutenant"), "2ndlt": ("second", "lieutenant"), "1lt": ("first", "lieutenant"),
    "1stlt": ("first", "lieutenant"), "lt": ("lieutenant",), "lieut": ("lieutenant",), "capt": ("captain",),
    "maj": ("major",), "ltc": ("lieutenant", "colonel"), "ltcol": ("lieutenant", "colonel"), "col": ("colonel",),
    "cdr": ("commander",), "cmdr": ("commander",), "lcdr": ("lieutenant", "commander"),
    "bg": ("brigadier", "general"), "bgen": ("brigadier", "general"), "brig": ("brigadier",),
    "majgen": ("major", "general"), "ltg": ("lieutenant", "general"), "ltgen": ("lieutenant", "general"),
    "gen": ("general",), "radm": ("rear", "admiral"), "vadm": ("vice", "admiral"), "det": ("detective",),
}  # fmt: skip

# Words joined before phrases are cut at "of"/"in"/"vice": their meaning is the pair.
_JOINED = {
    ("in", "charge"): "in-charge",
    ("in", "training"): "in-training",
    ("vice", "president"): "vp",
    ("head", "start"): "head-start",  # the preschool program, not a head of anything
}
_CHIEF_OF_STAFF = ("chief", "of", "staff")
_JOIN_STARTS = frozenset({"in", "vice", "head", "chief"})

# A phrase ends at these words; "at" and "to" end the segment (employer, or whom an assistant assists).
_PHRASE_BREAKS = frozenset({"of", "for", "and", "or", "with", "on", "in", "from", "by", "the", "a", "an"})
_SEGMENT_ENDS = frozenset({"at", "to"})

# Ranks that are whole phrases, matched longest first. Values are rungs; WARRANT is read with its number.
_WARRANT = -2.0
_FIXED_RANKS: dict[tuple[str, ...], float] = {
    # Enlisted (Army, Marines, Air Force, Navy, Coast Guard), E-1 … E-9.
    ("private", "first", "class"): 1.5, ("lance", "corporal"): 1.75, ("corporal",): 2.25,
    ("sergeant",): 4.0, ("staff", "sergeant"): 4.1, ("technical", "sergeant"): 4.2,
    ("sergeant", "first", "class"): 4.2, ("gunnery", "sergeant"): 4.2, ("platoon", "sergeant"): 4.2,
    ("master", "sergeant"): 4.3, ("first", "sergeant"): 4.3, ("senior", "master", "sergeant"): 4.35,
    ("sergeant", "major"): 4.4, ("master", "gunnery", "sergeant"): 4.4, ("chief", "master", "sergeant"): 4.4,
    ("command", "sergeant", "major"): 4.45,
    ("airman", "basic"): 1.0, ("airman",): 1.25, ("airman", "first", "class"): 1.5, ("senior", "airman"): 2.0,
    ("seaman", "recruit"): 1.0, ("seaman", "apprentice"): 1.25, ("seaman",): 1.5,
    ("petty", "officer", "third", "class"): 2.25, ("petty", "officer", "second", "class"): 4.0,
    ("petty", "officer", "first", "class"): 4.1, ("chief", "petty", "officer"): 4.2,
    ("senior", "chief", "petty", "officer"): 4.3, ("senior", "chief"): 4.3,
    ("master", "chief", "petty", "officer"): 4.4, ("master", "chief"): 4.4,
    ("warrant", "officer"): _WARRANT, ("chief", "warrant", "officer"): _WARRANT,
    # Officers, O-1 … O-10 (a Navy lieutenant reads as O-3, above a lieutenant junior grade).
    ("second", "lieutenant"): 5.0, ("ensign",): 5.0, ("lieutenant", "junior", "grade"): 5.15,
    ("lieutenant", "jg"): 5.15, ("first", "lieutenant"): 5.25, ("lieutenant",): 5.25,
    ("lieutenant", "commander"): 6.5, ("commander",): 7.0, ("lieutenant", "colonel"): 7.0, ("colonel",): 8.0,
    ("brigadier", "general"): 9.0, ("rear", "admiral"): 9.0, ("major", "general"): 9.5,
    ("lieutenant", "general"): 10.0, ("vice", "admiral"): 10.0, ("admiral",): EXECUTIVE,
    # Positions held at a rank.
    ("squad", "leader"): 4.1, ("section", "leader"): 4.1, ("platoon", "leader"): 5.0,
    ("company", "commander"): 6.0, ("battalion", "chief"): 7.0, ("division", "chief"): 7.5,
    ("crew", "chief"): LEAD, ("chief", "resident"): LEAD, ("detective",): 3.0,
    # Store, restaurant, warehouse and hotel rungs.
    ("key", "holder"): KEY_HOLDER, ("keyholder",): KEY_HOLDER, ("process", "assistant"): LEAD,
    ("executive", "team", "leader"): ASSISTANT_MANAGER, ("executive", "team", "lead"): ASSISTANT_MANAGER,
    ("store", "leader"): MANAGER, ("assistant", "store", "leader"): ASSISTANT_MANAGER,
    ("district", "leader"): DISTRICT_MANAGER, ("regional", "leader"): REGIONAL_MANAGER,
    ("crew", "trainer"): SKILLED_HOURLY, ("barista", "trainer"): SKILLED_HOURLY,
    ("team", "trainer"): SKILLED_HOURLY, ("member", "trainer"): SKILLED_HOURLY,
    ("shift", "trainer"): SKILLED_HOURLY, ("cashier", "trainer"): SKILLED_HOURLY,
    ("server", "trainer"): SKILLED_HOURLY, ("forklift",): SKILLED_HOURLY, ("fork", "lift"): SKILLED_HOURLY,
    ("reach", "truck"): SKILLED_HOURLY, ("pit", "operator"): SKILLED_HOURLY, ("paramedic",): SKILLED_HOURLY,
    ("chef", "de", "partie"): 3.0, ("junior", "sous", "chef"): 4.25, ("sous", "chef"): 4.5,
    ("executive", "sous", "chef"): 4.6, ("chef", "de", "cuisine"): 4.75, ("executive", "chef"): MANAGER,
    ("head", "chef"): MANAGER, ("executive", "housekeeper"): MANAGER,
    ("nursing", "supervisor"): ASSISTANT_MANAGER, ("house", "supervisor"): ASSISTANT_MANAGER,
    ("physician", "assistant"): ADVANCED_PRACTICE, ("physician", "associate"): ADVANCED_PRACTICE,
    # Prospecting roles: "lead" here is a sales lead, not a rank.
    ("development", "representative"): ENTRY_SALES, ("sdr",): ENTRY_SALES, ("bdr",): ENTRY_SALES,
    ("lead", "generation"): ENTRY_SALES, ("lead", "gen"): ENTRY_SALES,
}  # fmt: skip


def _by_first_word(
    ranks: dict[tuple[str, ...], float],
) -> dict[str, tuple[tuple[tuple[str, ...], float], ...]]:
    """Index the phrases by their first word, longest first, so a phrase is matched in a dict look-up."""
    index: dict[str, list[tuple[tuple[str, ...], float]]] = {}
    for phrase, value in sorted(ranks.items(), key=lambda item: -len(item[0])):
        index.setdefault(phrase[0], []).append((phrase, value))
    return {word: tuple(entries) for word, entries in index.items()}


_FIXED_BY_FIRST = _by_first_word(_FIXED_RANKS)

_ENLISTED_GRADES = (1.0, 1.25, 1.5, 2.0, 4.0, 4.1, 4.2, 4.3, 4.4)  # E-1 … E-9, as the ranks above
_OFFICER_GRADES = (5.0, 5.25, 6.0, 6.5, 7.0, 8.0, 9.0, 9.5, 10.0, EXECUTIVE)  # O-1 … O-10
_NAVY_CLASSES = {"third": 2.25, "second": 4.0, "first": 4.1}  # "Hospital Corpsman Second Class"
# Pay plans whose grade is a fraction: federal GS / wage grade, and "Grade 7" of city and state plans.
_GRADED_PLANS = frozenset({"gs", "wg", "wl", "ws", "grade"})
_PLAN_RANKS = {"ws": SUPERVISOR, "wl": LEAD}  # wage supervisor, wage leader
_PLAN_TOKEN = re.compile(r"^(gs|wg|wl|ws|e|o)(\d{1,2})$")

_C_SUITE = frozenset(
    {"ceo", "cfo", "coo", "cto", "cio", "cmo", "cso", "ciso", "cpo", "cro", "cdo", "cco", "cao", "chro", "cno"}
)
_LOWER_MODIFIERS = frozenset({"assistant", "associate", "deputy", "junior", "vice"})
_UPPER_MODIFIERS = frozenset({"senior", "executive", "group"})
_MODIFIERS = _LOWER_MODIFIERS | _UPPER_MODIFIERS
_INTERN_WORDS = frozenset(
    {"intern", "internship", "trainee", "apprentice", "werkstudent", "extern", "externship", "recruit", "in-training"}
)
_JUNIOR_WORDS = frozenset({"junior", "associate", "assistant", "entry", "graduate", "helper", "lube"})
_ENTRY_HEAD_NOUNS = frozenset({"associate", "assistant"})  # as the head noun an entry role, not a junior grade

# Managers of a part of a store or kitchen report to its manager; a shift manager is a shift lead.
_SUBUNITS = frozenset(
    {"kitchen", "department", "dept", "produce", "deli", "bakery", "meat", "seafood", "floral", "grocery", "dairy",
     "frozen"}
)  # fmt: skip
_SCOPES = {"area": AREA_MANAGER, "district": DISTRICT_MANAGER, "market": DISTRICT_MANAGER,
           "regional": REGIONAL_MANAGER, "region": REGIONAL_MANAGER}  # fmt: skip
_NOT_A_MANAGER = frozenset({"case", "care"})  # a case manager manages cases
_NOT_A_LEAD = frozenset({"generation", "gen", "generator", "abatement", "paint", "poisoning", "based"})
# "Head of Sales", "Head Marketing": a head of a function; "Head Cashier", "Head Nurse": the lead of a crew.
_FUNCTIONS = frozenset(
    {"sales", "marketing", "product", "engineering", "operations", "growth", "design", "data", "people", "hr",
     "finance", "technology", "it", "partnerships", "talent", "legal", "strategy", "business", "customer",
     "content", "brand", "security", "research", "communications", "analytics", "revenue", "digital", "supply",
     "procurement", "development", "social", "creative", "compliance", "risk", "infrastructure", "platform",
     "quality", "recruiting", "human", "school", "department"}
)  # fmt: skip
# "Staff" is a senior IC only in engineering-like titles ("Staff Pharmacist", "Staff Accountant" are not).
_ENGINEERING_NOUNS = frozenset(
    {"engineer", "developer", "scientist", "designer", "architect", "researcher", "programmer", "sre", "technologist"}
)
# "Principal Consultant" is an IC grade; a principal without one is a school's.
_PRINCIPAL_IC_NOUNS = _ENGINEERING_NOUNS | {
    "consultant", "analyst", "investigator", "product", "program", "specialist", "associate", "accountant",
    "auditor", "economist", "statistician", "strategist", "advisor", "counsel", "attorney", "member", "software",
    "data", "solutions", "technical",
}  # fmt: skip
_MASTER_NOT_A_GRADE = frozenset({"data", "scheduler", "planner", "class", "degree", "plan", "schedule", "franchise"})
_NOT_FIRM_PARTNER = frozenset({"business", "channel", "alliance", "alliances", "strategic", "talent", "sales"})
_NOT_BUSINESS_OWNER = frozenset(
    {"product", "process", "service", "system", "systems", "data", "risk", "control", "technical", "content"}
)
# "Captain" (or "Major", "Private") of a ship, plane, army, police or fire company; a banquet or bell captain
# leads a crew.
_CAPTAIN_CONTEXT = frozenset(
    {"police", "fire", "army", "navy", "marine", "marines", "air", "airline", "ship", "boat", "sea", "tug",
     "ferry", "flight", "us", "usa", "usmc", "usaf", "usn", "ems", "corrections", "correctional", "detention"}
)  # fmt: skip
# What may follow "Private" / "Major" / "General" as a rank ("Major Gifts Officer" is no major).
_RANK_TAIL = frozenset({"", "e", "o", "us", "usa", "army", "usmc", "marine", "marines", "infantry", "usaf", "usn"})
_DEPUTY_IS_THE_JOB = frozenset({"sheriff", "marshal", "constable", "clerk", "coroner", "jailer", "registrar"})

_LICENSED_WORDS = {
    "rn": LICENSED, "pharmacist": LICENSED, "teacher": LICENSED, "lpn": LPN, "lvn": LPN,
    "np": ADVANCED_PRACTICE, "fnp": ADVANCED_PRACTICE, "aprn": ADVANCED_PRACTICE, "crna": ADVANCED_PRACTICE,
}  # fmt: skip
_NOT_A_NURSE = frozenset(
    {"aide", "aid", "assistant", "assistants", "tech", "technician", "extern", "intern", "student", "trainee",
     "apprentice", "practitioner", "anesthetist", "midwife"}
)  # fmt: skip
_NOT_A_TEACHER = frozenset({"assistant", "aide", "aid", "assistants"})
_LICENSED_LEADS = frozenset({"lead", "charge", "head"})

_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9}
_UNAMBIGUOUS_ROMAN = frozenset({"ii", "iii", "vi", "vii", "viii"})  # never a word; "iv" may be IV therapy
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6}
# A number after these is a store, shift, grade or unit, not a level of the job.
_NOT_A_LEVEL = frozenset(
    {"gs", "wg", "wl", "ws", "grade", "step", "level", "tier", "band", "e", "o", "w", "class", "year", "shift",
     "store", "unit", "station", "district", "region", "zone", "route", "floor", "building", "no", "number",
     "team", "dc", "fc", "site", "area", "warehouse", "dept", "department", "pod", "local", "post", "truck",
     "engine", "ladder", "squad", "battalion", "company", "platoon", "medic", "rescue", "precinct", "ward", "bay",
     "dock", "door", "section", "phase", "wave", "cohort", "pgy", "lot", "gate"}
)  # fmt: skip

# Apostrophes and periods vanish ("Sr." → "sr", "U.S." → "us"); these split a title into segments.
_DROP = re.compile("[.'`\u2019\u00b4]")
_SEGMENT_SEPARATORS = re.compile(r"[,;:/|()\[\]{}@+]|\s[-\u2013\u2014]+\s|[\u2013\u2014]|#\s*\d+")
_WORD = re.compile(r"[^\W_]+")

# --------------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------------


def _phrases(title: str) -> list[list[str]]:
    """``"Asst. Store Mgr, Pharmacy (GS-7)"`` → ``[["assistant", "store", "manager"], ["pharmacy"], ["gs", "7"]]``."""
    text = _DROP.sub("", title.casefold()).replace("&", " and ")
    phrases: list[list[str]] = []
    for segment in _SEGMENT_SEPARATORS.split(text):
        words = _expand(_WORD.findall(segment))
        current: list[str] = []
        for word in words:
            if word in _SEGMENT_ENDS:
                break
            if word in _PHRASE_BREAKS:
                if current:
                    phrases.append(current)
                current = []
            else:
                current.append(word)
        if current:
            phrases.append(current)
    return phrases


def _expand(tokens: list[str]) -> list[str]:
    words: list[str] = []
    for token in tokens:
        expansion = _EXPANSIONS.get(token)
        if expansion is not None:
            words.extend(expansion)
            continue
        plan = _PLAN_TOKEN.match(token) if token[-1].isdigit() else None  # "gs11", "e5"
        if plan is not None:
            words.extend(plan.groups())
        else:
            words.append(token)
    if len(words) < 2 or _JOIN_STARTS.isdisjoint(words):
        return words
    joined: list[str] = []
    i = 0
    while i < len(words):
        if tuple(words[i : i + 3]) == _CHIEF_OF_STAFF:
            joined.append("chief-of-staff")
            i += 3
            continue
        pair = _JOINED.get((words[i], words[i + 1])) if i + 1 < len(words) else None
        if pair is not None:
            joined.append(pair)
            i += 2
        else:
            joined.append(words[i])
            i += 1
    return joined


# --------------------------------------------------------------------------------------------------
# Reading a phrase
# --------------------------------------------------------------------------------------------------

_INTERN_FLAG, _JUNIOR_FLAG, _SENIOR_FLAG = 1, 2, 4


def _number(word: str) -> int:
    if word.isdigit():
        value = int(word)
        return value if 1 <= value <= 9 else 0
    return _ROMAN.get(word, 0)


def _nearest_modifier(words: Sequence[str], i: int) -> str:
    for j in range(i - 1, -1, -1):
        if words[j] in _MODIFIERS:
            return words[j]
    return ""


def _scope(words: Sequence[str], i: int) -> float:
    for j in range(i - 1, -1, -1):
        scope = _SCOPES.get(words[j])
        if scope is not None:
            return scope
    return 0.0


def _manager(words: Sequence[str], i: int) -> float:
    prev = words[i - 1] if i else ""
    if prev in _NOT_A_MANAGER:
        return -1.0
    if prev == "shift":
        base = LEAD
    elif prev in _SUBUNITS:
        base = SUPERVISOR
    else:
        base = _scope(words, i) or MANAGER  # a general manager runs a store or restaurant: its manager
    modifier = _nearest_modifier(words, i)
    if modifier in _LOWER_MODIFIERS:
        return base - (0.5 if base >= MANAGER else 0.25)
    if modifier in _UPPER_MODIFIERS:
        return SENIOR_MANAGER if base == MANAGER else base + 0.25
    return base


def _supervisor(words: Sequence[str], i: int) -> float:
    prev = words[i - 1] if i else ""
    base = LEAD if prev == "shift" else max(_scope(words, i), SUPERVISOR)
    modifier = _nearest_modifier(words, i)
    if modifier in _LOWER_MODIFIERS:
        return base - 0.25
    if modifier in _UPPER_MODIFIERS:
        return base + 0.1
    return base


def _director(words: Sequence[str], i: int) -> float:
    if i and words[i - 1] == "managing":
        return EXECUTIVE
    modifier = _nearest_modifier(words, i)
    if modifier in _UPPER_MODIFIERS:
        return HEAD
    return DIRECTOR - 0.5 if modifier in _LOWER_MODIFIERS else DIRECTOR


def _scaled(base: float, words: Sequence[str], i: int, *, lower: float, upper: float) -> float:
    modifier = _nearest_modifier(words, i)
    if modifier in _LOWER_MODIFIERS:
        return base - lower
    return base + upper if modifier in _UPPER_MODIFIERS else base


def _word_rank(words: Sequence[str], i: int) -> float:
    """The rank one word gives, read with its neighbours; -1 when it names none."""
    word = words[i]
    n = len(words)
    prev = words[i - 1] if i else ""
    nxt = words[i + 1] if i + 1 < n else ""
    if word == "manager":
        return _manager(words, i)
    if word in ("supervisor", "supervisors"):
        return _supervisor(words, i)
    if word in ("lead", "leader"):
        if nxt in _NOT_A_LEAD:
            return -1.0
        # Only a leading modifier: in "Sales Associate Lead" the associates are who is led.
        modifier = words[0] if i and words[0] in _MODIFIERS else ""
        if modifier in _LOWER_MODIFIERS:
            return LEAD - 0.5
        return LEAD + 0.1 if modifier in _UPPER_MODIFIERS else LEAD
    if word == "director":
        return _director(words, i)
    if word == "vp":
        return _scaled(VP, words, i, lower=0.5, upper=SVP - VP)
    if word in ("svp", "evp"):
        return SVP
    if word == "avp":
        return VP - 0.5
    if word == "president":
        return EXECUTIVE
    if word == "chief":
        if nxt == "deputy":
            return EXECUTIVE - 0.5
        return _scaled(EXECUTIVE, words, i, lower=0.5, upper=0.0)  # "Deputy Fire Chief"
    if word == "chief-of-staff":
        return HEAD
    if word in _C_SUITE or word in ("founder", "cofounder", "proprietor"):
        return EXECUTIVE
    if word == "owner":
        return -1.0 if prev in _NOT_BUSINESS_OWNER else EXECUTIVE
    if word == "partner":
        if prev in ("associate", "junior"):
            return EXECUTIVE - 0.5
        return EXECUTIVE if prev not in _NOT_FIRM_PARTNER and not nxt else -1.0
    if word == "head":
        if not nxt or nxt in _FUNCTIONS:
            return HEAD
        return LEAD  # "Head Cashier": the lead of the crew
    if word == "superintendent":
        if prev == "general":
            return SENIOR_MANAGER
        return _scaled(MANAGER, words, i, lower=0.5, upper=0.5)
    if word in ("foreman", "forman", "foreperson", "forewoman"):
        if prev == "general":
            return ASSISTANT_MANAGER
        return _scaled(LEAD, words, i, lower=0.25, upper=0.25)
    if word == "staff":
        if any(w in _ENGINEERING_NOUNS for w in words[i + 1 :]):
            return _scaled(LEAD, words, i, lower=0.0, upper=0.25)
        return -1.0
    if word == "principal":
        if any(w in _PRINCIPAL_IC_NOUNS for w in words[i + 1 :]):
            return _scaled(PRINCIPAL_IC, words, i, lower=0.0, upper=0.25)
        return _scaled(DIRECTOR, words, i, lower=0.5, upper=0.0)  # a school's principal
    if word == "distinguished":
        return DISTINGUISHED_IC if any(w in _ENGINEERING_NOUNS for w in words[i + 1 :]) else -1.0
    if word == "captain":
        return 6.0 if not prev or prev in _CAPTAIN_CONTEXT else LEAD
    if word == "private":
        return 1.0 if (not prev or prev in _CAPTAIN_CONTEXT) and (nxt in _RANK_TAIL or nxt.isdigit()) else -1.0
    if word == "major":  # not a drum major, nor a "Major Gifts Officer"
        return 6.5 if (not prev or prev in _CAPTAIN_CONTEXT) and nxt in _RANK_TAIL else -1.0
    if word == "general":
        return EXECUTIVE if i == 0 and nxt in _RANK_TAIL else -1.0
    if word == "sheriff":
        return -1.0 if prev == "deputy" else EXECUTIVE
    if word == "class" and i >= 2:
        return _NAVY_CLASSES.get(prev, -1.0)
    if word in ("e", "o") and nxt.isdigit():
        grade = int(nxt)
        grades = _ENLISTED_GRADES if word == "e" else _OFFICER_GRADES
        return grades[grade - 1] if 1 <= grade <= len(grades) else -1.0
    return -1.0


def _licensed(words: Sequence[str], consumed: Sequence[bool]) -> float:
    """RN, LPN, pharmacist, teacher, NP in this phrase, with charge/lead/in-charge/senior; -1 when none."""
    best = -1.0
    n = len(words)
    for i, word in enumerate(words):
        if consumed[i]:
            continue
        prev = words[i - 1] if i else ""
        nxt = words[i + 1] if i + 1 < n else ""
        if word == "nurse":
            if nxt in _NOT_A_NURSE:
                base = ADVANCED_PRACTICE if nxt == "practitioner" else -1.0
            else:
                base = LPN if prev in ("practical", "vocational") else LICENSED
        elif word == "teacher":
            base = -1.0 if nxt in _NOT_A_TEACHER else LICENSED
        else:
            base = _LICENSED_WORDS.get(word, -1.0)
        if base < 0 or prev == "student":
            continue
        modifier = _nearest_modifier(words, i)
        if modifier in _LOWER_MODIFIERS:
            base = INDIVIDUAL  # "Assistant Teacher" assists the teacher
        elif any(w in _LICENSED_LEADS for w in words[:i]) or "in-charge" in words:
            base += LICENSED_LEAD
        elif modifier in _UPPER_MODIFIERS:
            base += STEP * 2
        best = max(best, base)
    return best


def _read_phrase(words: list[str]) -> tuple[float, float, float, int]:
    """(rank or -1, numbered-level bump, grade/year bump for the whole title, IC flags)."""
    n = len(words)
    consumed = [False] * n
    rank = -1.0
    level = 0
    grade_bump = 0.0
    i = 0
    while i < n:
        for phrase, value in _FIXED_BY_FIRST.get(words[i], ()):
            size = len(phrase)
            if tuple(words[i : i + size]) != phrase:
                continue
            if value == _WARRANT:
                after = _number(words[i + size]) if i + size < n else 0
                grade = after or (2 if phrase[0] == "chief" else 1)
                value = 4.5 + 0.1 * (min(grade, 5) - 1)
                if after:
                    consumed[i + size] = True  # the warrant grade, not a numbered level
            rank = max(rank, value)
            for j in range(i, i + size):
                consumed[j] = True
            i += size - 1
            break
        i += 1

    flags = 0
    for i, word in enumerate(words):
        if consumed[i]:
            continue
        rank = max(rank, _word_rank(words, i))
        nxt = words[i + 1] if i + 1 < n else ""
        if word in _GRADED_PLANS:
            grade_word = words[i + 2] if len(nxt) >= 3 and i + 2 < n else nxt  # "GS-0343-12": series, grade
            if grade_word.isdigit() and 1 <= int(grade_word) <= 15:
                grade_bump += GRADE_STEP * int(grade_word)
                rank = max(rank, _PLAN_RANKS.get(word, -1.0))
        elif word in ("level", "tier") and nxt:
            level = max(level, _number(nxt))
        elif word in _ORDINALS and nxt in ("year", "yr"):
            grade_bump += STEP * (_ORDINALS[word] - 1)  # "4th Year Apprentice"
        elif word in _INTERN_WORDS:
            flags |= _INTERN_FLAG
        elif word == "senior" or (word == "master" and nxt and nxt not in _MASTER_NOT_A_GRADE):
            flags |= _SENIOR_FLAG
        elif word in _JUNIOR_WORDS and not (word in _ENTRY_HEAD_NOUNS and i == n - 1 and n > 1):
            # As the head noun ("Sales Associate", "Nursing Assistant") these name an entry-level role.
            flags |= _JUNIOR_FLAG
        elif i and word in _UNAMBIGUOUS_ROMAN and words[i - 1] not in _NOT_A_LEVEL:
            level = max(level, _ROMAN[word])
    last = words[-1]
    if n > 1 and not consumed[-1] and words[-2] not in _NOT_A_LEVEL and not words[-2].isdigit():
        level = max(level, _number(last))

    if not flags & _INTERN_FLAG:
        rank = max(rank, _licensed(words, consumed))
    elif rank >= 0:
        rank = max(INTERN, rank - 1.0)  # "Manager in Training"
    bump = STEP * (level - 1) if level > 1 else 0.0
    return rank, bump, grade_bump, flags


# --------------------------------------------------------------------------------------------------
# The ladder
# --------------------------------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def seniority_level(title: str | None) -> float:
    """Place a job title on the ladder (higher is more senior; equal means a lateral move).

    intern < junior/associate/assistant < individual contributor < senior < lead/staff/principal
    < manager < senior manager < director < senior director/head of < VP < SVP/EVP
    < C-level/president/partner/managing director/founder, with the front-line, clinical and rank rungs of the
    module docstring in between. "Assistant"/"associate"/"deputy" before a manager, director or VP title places
    it half a step below.
    """
    if not title:
        return INDIVIDUAL
    best_rank = -1.0
    rank_bump = ic_bump = title_bump = 0.0
    flags = 0
    for words in _phrases(title):
        rank, bump, grade_bump, phrase_flags = _read_phrase(words)
        title_bump += grade_bump
        flags |= phrase_flags
        if rank >= 0 and rank + bump >= best_rank + rank_bump:
            best_rank, rank_bump = rank, bump
        ic_bump = max(ic_bump, bump)
    if best_rank >= 0:
        return best_rank + min(rank_bump + title_bump, MAX_BUMP)
    if flags & _INTERN_FLAG:
        base = INTERN
    elif flags & _SENIOR_FLAG:
        base = SENIOR
    elif flags & _JUNIOR_FLAG:
        base = JUNIOR
    else:
        base = INDIVIDUAL
    return base + min(ic_bump + title_bump, MAX_BUMP)


@lru_cache(maxsize=65536)
def is_founder_title(title: str | None) -> bool:
    """Founder / co-founder / cofounder / owner / founding partner (word match, any case)."""
    words = title_key(title).split()
    for i, word in enumerate(words):
        if word in ("founder", "cofounder", "proprietor"):
            return True
        if word == "owner" and (i == 0 or words[i - 1] not in _NOT_BUSINESS_OWNER):
            return True
        if word == "founding" and i + 1 < len(words) and words[i + 1] == "partner":
            return True
    return False
