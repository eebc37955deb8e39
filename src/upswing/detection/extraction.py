"""Extraction from a short text about a person: job title and organization, credential and issuer, people,
dates and locations.

Pure and fast (compiled regexes, small gazetteers, no model): the whole text pipeline must classify and
extract hundreds of texts a second on two cores.

Roles (title and organization) are read by *patterns*: a trigger regex ("joined", "promoted to", "was named",
"new position as", "to succeed … as", headline "Acme Names …") that says where a title or an organization
starts, then two phrase readers that walk the tokens from there. The title reader stops at what cannot be
part of a title (a verb, a pronoun, a date, "in the", punctuation) and notes a following "at/@/with/for/in"
that introduces the organization; the organization reader takes capitalized words and their connectors
("City of Boston Analytics Team", "Clayton, Dubilier & Rice", "Citadel Holding Corp."). "The firm" or "the
Company" refer back to the organization that opens a press release ("Acme Inc. (NYSE: ACM) today announced
…"). Each label has its own pattern order; the first pattern that yields something wins.

Titles and organizations are returned exactly as written (the text's case and spelling), so they can be
shown as evidence; ``profile_diff.title_key``/``company_key`` normalize them for comparison.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

__all__ = [
    "CredentialMention",
    "DateMention",
    "Extraction",
    "Role",
    "effective_date",
    "extract",
    "extract_credential",
    "extract_dates",
    "extract_locations",
    "extract_people",
    "extract_role",
    "leading_organization",
]

def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


ROLE_LABELS = frozenset({"new_employment", "promotion", "business_launch"})
CREDENTIAL_LABELS = frozenset({"certification", "license_renewal", "award", "education"})

# --------------------------------------------------------------------------------------------------
# Vocabularies (lower case)
# --------------------------------------------------------------------------------------------------

#: Words that make a phrase a job title (its head or a typical modifier).
TITLE_WORDS = _wordset("""
accountant administrator adviser advisor agent analyst apprentice architect artist assistant associate attorney
auditor banker barista broker buyer captain ceo cfo chair chairman chairwoman chairperson chancellor chef chief
cio ciso clerk clinician coach colonel commander commissioner consultant controller coordinator coo counsel
counselor cpo cro cso cto curator dean designer detective developer dietitian director doctor economist editor
educator engineer entrepreneur evangelist executive faculty fellow founder co-founder cofounder general head
hygienist instructor intern internship investigator journalist judge lawyer lead leader lecturer librarian
lieutenant manager marketer mechanic member minister nurse officer operator owner paralegal partner pastor
pharmacist physician physicist pilot planner postdoc postdoctoral president principal producer professor
programmer psychologist recruiter rector registrar representative rep researcher resident scientist secretary
sergeant sheriff specialist staff strategist student superintendent supervisor surgeon teacher tech technician
technologist therapist trader trainee trainer treasurer trustee tutor vp svp evp avp writer appointment
position residency fellowship assistantship clerkship co-op coop apprenticeship scholar practitioner
accessioner tester boss coordinator steward ambassador advocate lecturer instructor deputy vice senior junior
principal staff interim acting managing
""")

#: Functional areas and fields: "Director of Sales", "Professor of Chemical Engineering" keep their "of …".
FUNCTION_WORDS = _wordset("""
operations sales marketing engineering product products finance financial accounting audit services service
research development strategy technology technologies management programs program people talent hr human
resources communications affairs relations design data analytics security legal compliance risk growth
partnerships business scouting personnel quality supply procurement purchasing investments investor customer
customers success support innovation digital infrastructure platform software hardware administration policy
public government medicine science sciences studies biology chemistry physics mathematics math economics law
history english education nursing surgery pediatrics division department board directors trustees staff
region consultancy consulting planning training learning manufacturing logistics facilities treasury tax taxation
revenue commercial enterprise transformation intelligence computing computer informatics statistics
psychology sociology philosophy arts art music drama theatre literature journalism communication network
networks systems information it ai ml machine cloud mobile web media content editorial creative brand
brands events community partnerships alliances channel channels field clinical medical health care wellness
safety environment environmental sustainability diversity inclusion equity admissions athletics player
players college scouting recruitment recruiting investigations enforcement patrol dealer trading
""")

#: Regions a title may name ("VP of Sales, EMEA", "President of North America").
REGION_WORDS = _wordset("international global worldwide americas emea apac europe asia north south east west "
                         "central africa latin america pacific midwest northeast southeast northwest southwest "
                         "usa us u.s. canada")

#: Modifiers of fields and departments ("Chemical Engineering", "Vehicle Program Management", "Credit Risk").
FIELD_MODIFIERS = _wordset("""
chemical mechanical electrical civil biomedical aerospace industrial molecular cellular vehicle credit consumer
retail corporate private wealth asset portfolio internal external strategic regional national emerging applied
social political behavioral cognitive population family child student graduate undergraduate academic clinical
environmental natural physical life earth computational quantum nuclear materials material civic urban rural
commercial residential institutional equity fixed income capital markets market client patient nurse employee
customer global field inside outside special general total world new product people user experience ux ui
core site store plant hotel branch district regional local community school schools k-12 higher continuing
adult early childhood youth veterans military defense fire police emergency critical primary secondary
digital print online global solutions strategy
""")

#: Lower-case -ing words that belong in a title ("machine learning engineering internship").
_TITLE_GERUNDS = frozenset(w for w in FUNCTION_WORDS if w.endswith("ing")) | {"managing", "acting", "visiting",
                                                                              "operating", "building"}

#: Organization suffixes (legal forms and kinds): an "of X" ending in one of these is an employer.
ORG_SUFFIXES = _wordset("""
inc inc. incorporated llc l.l.c. llp lp l.p. ltd ltd. limited corp corp. corporation co co. company cos cos.
companies gmbh plc ag sa s.a. bv nv pty pvt srl s.r.l. sarl kg group holdings bank bancorp university college
institute school hospital foundation partners associates capital ventures labs lab laboratory laboratories
systems technologies solutions industries international agency studio studios network networks
""")
_LEGAL_SUFFIXES = _wordset("inc inc. incorporated llc l.l.c. llp lp l.p. ltd ltd. limited corp corp. "
                            "corporation co co. cos cos. gmbh plc ag sa s.a. bv nv pty pvt srl s.r.l. sarl")

#: Generic words that stand for the employer named elsewhere ("joined the firm").
ORG_REFERENCES = _wordset("firm company organization organisation bank business corporation group team "
                           "partnership practice agency concern unit arm subsidiary board")

#: Lower-case nouns that may close an organization name ("NVIDIA XR team", "EQT group").
_ORG_TAIL_NOUNS = _wordset("team group lab labs laboratory")
#: Organizations whose next words "at X" belong to them ("Fraser Lab at UCSF").
_UNIT_NOUNS = _wordset("lab labs laboratory group team center centre institute department school division "
                        "office program programme")

_MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4, "may": 5,
    "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9,
    "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}  # fmt: skip
_WEEKDAYS = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6}

#: Lower-case words that end a title: verbs, pronouns, determiners, time words, subordinators.
_TITLE_STOP = _wordset("""
a an the this that these those my your his her its our their me him them us i you he she we they it who whom
whose which where when while what why how is was were be been being am are will would shall should can could
may might must do does did done has have had having get got gets getting became become becomes becoming
after before since during until till from into onto upon on by about against between through throughout
over under above below near effective starting beginning then now today yesterday tomorrow tonight next last
this summer winter spring fall autumn week month year quarter semester because but so yet although though
if unless than as like per via within without following replacing succeeding reporting responsible based
located where whereby also too very just only already still again soon recently officially finally alongside
while not no nor or there here both each every all some any such other another same currently formerly
former previously most who's whose one two three four five six seven eight nine ten several few many
later earlier ago
""")

#: Honorifics before a person's name.
_HONORIFICS = _wordset("mr mr. mrs mrs. ms ms. miss dr dr. prof prof. professor sir dame judge justice "
                        "rev rev. hon hon. gen gen. sen sen. rep. gov gov. capt capt.")
_NAME_SUFFIXES = _wordset("jr jr. sr sr. ii iii iv phd ph.d. md m.d.")

#: Capitalized words that never start or continue an organization name.
_NOT_ORG = _wordset("""
i i'm i've i'll he she we they it this that these those my our his her their its your in on at as and or for
to from with by since after before during when where while what who which there here today yesterday tomorrow
the a an but so if mr mr. mrs ms ms. dr dr. prof prof. now then also excited thrilled happy proud got
just finally officially recently was been have has had is are am will after before
""")

_ARTICLES = frozenset({"a", "an", "the"})
_DETERMINERS = frozenset({"a", "an", "the", "my", "his", "her", "their", "our", "its", "your", "new", "brand",
                          "first"})
_GENERIC_ROLES = frozenset({"job", "position", "role", "post", "gig", "offer", "career", "journey", "chapter",
                            "opportunity", "adventure", "work", "new job", "new position", "new role"})
_ROLE_NOUNS = frozenset({"role", "position", "job", "post", "gig"})
_ASSISTANT_WORDS = frozenset({"assistant", "advisor", "adviser", "counsel", "counselor", "liaison", "aide"})

# --------------------------------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"\S+")
_LEAD_PUNCT = "([{\"'“‘«"
_TRAIL_PUNCT = ",.;:!?)]}\"'”’»…"
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " ",
                         "\u2013": "-", "\u2014": "-"})
_INITIALS = re.compile(r"^(?:[A-Z]\.)+[A-Z]?\.?$")
_ABBREVIATIONS = _wordset("""
inc corp co cos ltd jr sr st dr mr mrs ms prof gen sen rep gov capt lt sgt dept univ no vs e.g i.e u.s u.k
calif ill mich fla mass wash conn penn ariz colo tenn minn wis okla ore ky md va ga la ala miss mo neb nev
n.y n.j n.c s.c d.c n.h n.m n.d s.d w.va r.i bros assn intl natl mfg svc svcs a.m p.m
""") | set(_MONTHS)
_WORDLIKE = re.compile(r"^[\w][\w.'&+/@#\-]*$")
_DOMAIN_TOKEN = re.compile(r"^[a-z0-9][a-z0-9\-]*\.(?:ai|io|com|co|bio|org|net|dev|app|xyz|gg|tech|so|sh|me)$")
_YEAR = re.compile(r"^(?:19|20)\d\d$")


@dataclass(frozen=True, slots=True)
class _Tok:
    start: int  # span of ``core`` in the text
    end: int
    core: str  # the token without surrounding punctuation (abbreviation dots kept)
    lower: str
    lead: str  # punctuation stripped from the front
    trail: str  # punctuation stripped from the end

    @property
    def stops(self) -> bool:
        """Whether punctuation after this token ends a phrase."""
        return bool(self.trail) and self.trail not in ("'", '"', "’")

    @property
    def capitalized(self) -> bool:
        core = self.core
        if not core:
            return False
        first = core[0]
        return first.isupper() or first.isdigit() or (len(core) > 1 and first.islower() and core[1].isupper())


def _split_token(raw: str, start: int) -> _Tok:
    lead_len = len(raw) - len(raw.lstrip(_LEAD_PUNCT))
    body = raw[lead_len:]
    core = body.rstrip(_TRAIL_PUNCT)
    trail = body[len(core):]
    # "Inc." "J.P." "U.S." "Mr.": the dot belongs to the word, and it does not end the phrase.
    if trail.startswith(".") and core and (core.lower() in _ABBREVIATIONS or _INITIALS.match(core + ".")
                                          or (len(core) == 1 and core.isupper())):
        core += "."
        trail = trail[1:]
    s = start + lead_len
    return _Tok(s, s + len(core), core, core.lower(), raw[:lead_len], trail)


class _Doc:
    """A text split into tokens once, with look-ups from character offsets to tokens."""

    __slots__ = ("starts", "text", "tokens")

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = [_split_token(m.group(), m.start()) for m in _TOKEN.finditer(text)]
        self.starts = [t.start - len(t.lead) for t in self.tokens]

    def index_at(self, offset: int) -> int:
        """The first token that starts at or after ``offset``."""
        return bisect_left(self.starts, offset)

    def span(self, first: int, last: int) -> str:
        """The text from token ``first`` to token ``last`` (inclusive), whitespace collapsed."""
        return " ".join(self.text[self.tokens[first].start:self.tokens[last].end].split())

    def get(self, index: int) -> _Tok | None:
        return self.tokens[index] if 0 <= index < len(self.tokens) else None


def _is_word(tok: _Tok) -> bool:
    return bool(_WORDLIKE.match(tok.core))


def _is_month(tok: _Tok) -> bool:
    return tok.lower.rstrip(".") in _MONTHS and (tok.core[0].isupper())


def _is_time_word(tok: _Tok) -> bool:
    return _is_month(tok) or tok.lower in _WEEKDAYS or bool(_YEAR.match(tok.core))


def _acronym(tok: _Tok) -> bool:
    return len(tok.core) > 1 and tok.core.isupper()


def _is_title_word(tok: _Tok) -> bool:
    word = tok.lower.rstrip(".")
    if word in TITLE_WORDS:
        return True
    if word.endswith("s") and word[:-1] in TITLE_WORDS:
        return True
    # Acronyms (CEO, SVP, PM, SWE) and hyphenated forms (Co-Founder, Vice-President)
    core = tok.core.strip(".").replace(".", "")
    if 2 <= len(core) <= 5 and core.isupper() and core.isalpha():
        return True
    return any(part in TITLE_WORDS for part in word.split("-") if part)


# --------------------------------------------------------------------------------------------------
# Phrase readers
# --------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Title:
    first: int
    last: int
    text: str
    next_index: int  # the token after the title
    org_prep: int | None = None  # index of the token that starts the organization after "at/@/with/for/in"
    org_reference: bool = False  # "… of the Company": the organization is named elsewhere
    of_split: int | None = None  # index of an "of"/"in" whose tail may be the organization


def _read_title(doc: _Doc, index: int, *, max_tokens: int = 12) -> _Title | None:
    tokens = doc.tokens
    n = len(tokens)
    k = index
    # Determiners and possessives before the title: "a", "the company's new", "its", "Coherent's".
    while k < n and not tokens[k].stops and (
            tokens[k].lower in _DETERMINERS or tokens[k].lower.endswith("'s") or tokens[k].lower == "the"):
        k += 1
    if k < n and tokens[k].lower in ("position", "rank", "post", "role", "title") and doc.get(k + 1) \
            and tokens[k + 1].lower == "of":  # "promoted to the position of Senior Executive"
        k += 2
    first = k
    last = -1
    org_prep: int | None = None
    reference = False
    of_split: int | None = None
    while k < n:
        tok = tokens[k]
        word = tok.lower
        nxt = doc.get(k + 1)
        if tok.lead and "(" in tok.lead:
            break
        if not _is_word(tok) and tok.core not in ("&",):
            if tok.core == "@" and last >= 0:
                org_prep = k + 1
            break
        if last >= 0:  # what may follow the first word
            if word in ("at", "@"):
                org_prep = k + 1
                break
            if word == "with":
                if nxt is not None and nxt.lower == "tenure":
                    last = k + 1
                    k += 2
                    if nxt.stops:
                        break
                    continue
                if nxt is not None and (nxt.capitalized or nxt.lower == "the"):
                    org_prep = k + 1
                break
            if word == "for":
                after = doc.get(k + 2)
                if nxt is not None and (nxt.lower in FUNCTION_WORDS or (
                        (nxt.lower in FIELD_MODIFIERS or nxt.lower in REGION_WORDS) and after is not None
                        and after.lower.rstrip(".,") in FUNCTION_WORDS)):
                    pass  # "senior vice president for operations", "program officer for global health"
                elif nxt is not None and nxt.capitalized and not _is_time_word(nxt):
                    org_prep = k + 1
                    break
                else:
                    break
            elif word == "in":
                if nxt is not None and nxt.lower == "charge" and (doc.get(k + 2) or nxt).lower == "of":
                    last = k + 2
                    k += 3
                    continue
                if nxt is not None and nxt.lower == "the" and (doc.get(k + 2) is not None) \
                        and doc.tokens[k + 2].capitalized:
                    org_prep = k + 2
                    break
                if nxt is None or not nxt.capitalized or _is_time_word(nxt) or _location_word(nxt) \
                        or (nxt.lower in _NOT_ORG and not _acronym(nxt)):
                    break
                of_split = k
            elif word == "of":
                if nxt is None:
                    break
                if nxt.lower in ("the", "this", "its", "our", "their", "his", "her", "my"):
                    after = doc.get(k + 2)
                    if nxt.lower == "the" and after is not None and after.lower.rstrip(".,") in FUNCTION_WORDS:
                        last = k + 1  # "Chairman of the Board"
                        k += 2
                        continue
                    else:
                        if nxt.lower in ("the", "this", "its") and after is not None and (
                                after.lower in ORG_REFERENCES or not after.capitalized or nxt.lower != "the"):
                            reference = nxt.lower != "the" or after.lower in ORG_REFERENCES
                        elif nxt.lower == "the" and after is not None and after.capitalized:
                            of_split = k  # "President of the Acme Group", "Dean of the School of Law"
                            last = k + 1
                            k += 2
                            continue
                        break
                elif nxt.capitalized or nxt.lower in FUNCTION_WORDS:
                    of_split = k if nxt.capitalized else of_split
                else:
                    break
            elif word in ("and", "&", "/"):
                if nxt is None or not (nxt.capitalized or _is_title_word(nxt) or nxt.lower in FUNCTION_WORDS):
                    break
                if nxt.lower in _NOT_ORG:
                    break
            elif _ends_title(tok, tokens[last]):
                break
        else:  # the first word
            if word in _TITLE_STOP or word in _DETERMINERS or _is_time_word(tok) or word in (
                    "and", "&", "of", "to", "at", "in"):
                return None
        last = k
        k += 1
        if tok.trail == "," and _department_then_org(doc, k):
            continue  # "Associate Director, Clinical Operations @ Pfizer"
        if tok.stops or k - first >= max_tokens:
            break
    if last < first:
        return None
    if k - first >= max_tokens and k < n and not tokens[k - 1].stops:
        return None  # ran on: not a title
    # Trailing connectors and generic role nouns ("a PM role") are not part of the title.
    while last > first and tokens[last].lower in ("and", "&", "of", "in", "for", "/", "with", "to"):
        last -= 1
    if last > first and tokens[last].lower in _ROLE_NOUNS:
        last -= 1
    text = doc.span(first, last)
    if text.lower() in _GENERIC_ROLES:
        return None
    if of_split is not None and of_split > last:
        of_split = None
    return _Title(first, last, text, last + 1 if org_prep is None else k, org_prep, reference, of_split)


def _department_then_org(doc: _Doc, index: int) -> bool:
    """Whether tokens from ``index`` are a department (1–4 words) followed by "@"/"at" and a name."""
    for k in range(index, min(index + 5, len(doc.tokens))):
        tok = doc.tokens[k]
        if tok.lower in ("@", "at") and k > index:
            nxt = doc.get(k + 1)
            return nxt is not None and nxt.capitalized
        department_word = tok.lower in FUNCTION_WORDS or tok.lower in FIELD_MODIFIERS or tok.lower in REGION_WORDS
        if tok.stops or not (department_word or tok.lower in ("&", "and")):
            return False
    return False


_TITLE_PARTICIPLES = frozenset({"licensed", "certified", "registered", "chartered", "tenured"})


def _ends_title(tok: _Tok, previous: _Tok) -> bool:
    """Whether ``tok`` cannot continue a title: a verb, a pronoun, a time word ("Engineer in 2020")…"""
    word = tok.lower
    if word == "to":
        return previous.lower not in _ASSISTANT_WORDS  # "Assistant to the CEO"
    if _is_time_word(tok):
        return True
    if tok.capitalized:
        return word in _TITLE_STOP and not _acronym(tok)
    if word in _TITLE_STOP:
        return True
    if word.endswith("ing"):
        return word not in _TITLE_GERUNDS  # "focusing", "delivering"; not "engineering"
    return word.endswith("ed") and len(word) > 4 and word not in _TITLE_PARTICIPLES


def _location_word(tok: _Tok) -> bool:
    return tok.lower.rstrip(".") in _US_STATE_NAMES or tok.lower in _CITY_FIRST_WORDS


@dataclass(slots=True)
class _Org:
    first: int
    last: int
    text: str | None  # None: a reference ("the firm") to an organization named elsewhere
    next_index: int


def _org_token(tok: _Tok, position: int) -> bool:
    if tok.lower in _NOT_ORG and not (position > 0 and tok.lower in ("the",)):
        return False
    if tok.lead and "(" in tok.lead:
        return False
    if tok.capitalized:
        return _is_word(tok) or tok.core in ("&",)
    return position == 0 and bool(_DOMAIN_TOKEN.match(tok.core))


def _read_org(doc: _Doc, index: int, *, max_tokens: int = 10, allow_reference: bool = True) -> _Org | None:
    tokens = doc.tokens
    n = len(tokens)
    k = index
    had_article = False
    if k < n and tokens[k].lower == "the" and not tokens[k].stops:
        had_article = True
        k += 1
    if k >= n:
        return None
    called = _CALLED.match(doc.text, tokens[index].start - len(tokens[index].lead))
    if called is not None:  # "at a small agency called Pixelworks"
        k = doc.index_at(called.end())
        if k >= n:
            return None
    head = tokens[k]
    if had_article and allow_reference and head.lower in ORG_REFERENCES:
        return _Org(k, k, None, k + 1)
    if head.lower in ("this", "its") and allow_reference:
        return _Org(k, k, None, k + 1)
    if not _org_token(head, 0) or head.lower in _HONORIFICS or _is_time_word(head):
        return None
    first = k
    last = k
    k += 1
    while k < n and k - first < max_tokens and not tokens[last].stops:
        tok = tokens[k]
        nxt = doc.get(k + 1)
        if _org_token(tok, k - first) and not _is_time_word(tok) and tok.lower != "the":
            last = k
            k += 1
            continue
        if tok.lower in ("of", "&", "and", "for", "de", "du", "la", "x", "×", "y", "von", "van", "der", "on") \
                and not tok.stops and nxt is not None and nxt.capitalized and nxt.lower not in _NOT_ORG \
                and not _is_time_word(nxt) and not (tok.lower == "and" and nxt.lower in ("its", "his", "her")):
            k += 1
            continue
        if tok.lower == "of" and nxt is not None and nxt.lower == "the" and doc.get(k + 2) is not None \
                and tokens[k + 2].capitalized:  # "Bank of the West"
            k += 2
            continue
        if tok.lower in _ORG_TAIL_NOUNS:
            last = k
            k += 1
            continue
        break
    # ", Inc." and friends continue the name.
    while last + 1 < n and tokens[last].trail == "," and tokens[last + 1].lower.rstrip(".") + "." in (
            _LEGAL_SUFFIXES | {s + "." for s in _LEGAL_SUFFIXES}) and tokens[last + 1].capitalized:
        last += 1
    # "Fraser Lab at UCSF", "Brain x Machine Intelligence Lab at KAIST"
    if tokens[last].lower in _UNIT_NOUNS and not tokens[last].stops and last + 2 < n \
            and tokens[last + 1].lower in ("at", "of") and (tokens[last + 2].capitalized or (
                tokens[last + 2].lower == "the" and last + 3 < n and tokens[last + 3].capitalized)) \
            and tokens[last + 2].lower not in _NOT_ORG - {"the"}:
        rest = _read_org(doc, last + 2, max_tokens=max_tokens, allow_reference=False)
        if rest is not None and rest.text:
            last = rest.last
    # An organization ending in a legal suffix ends there ("Duracell International Inc. of Bethel").
    for j in range(first, last):
        if j > first and tokens[j].lower in _LEGAL_SUFFIXES and tokens[j].lower != "co":
            last = j
            break
    while last > first and tokens[last].lower in ("of", "&", "and", "for", "the", "x", "y"):
        last -= 1
    text = doc.span(first, last).rstrip(",")
    if text.endswith("'s"):
        text = text[:-2]
    if text.lower() in ORG_REFERENCES or text.lower() in ("board", "board of directors"):
        return _Org(first, last, None, last + 1) if allow_reference else None
    return _Org(first, last, text, last + 1)


_CALLED = re.compile(r"(?:an?\s+|the\s+)?(?:[\w-]+\s+){0,3}?(?:company|agency|startup|start-up|firm|studio|business|"
                     r"shop|nonprofit|non-profit|bank|school|hospital|clinic|restaurant|practice|lab)\s*,?\s+"
                     r"(?:called|named)\s+", re.IGNORECASE)


def _read_org_back(doc: _Doc, index: int) -> str | None:
    """The organization that ends right before token ``index`` ("… Helix promoted me")."""
    tokens = doc.tokens
    k = index - 1
    last = k
    while k >= 0 and index - k <= 6:
        tok = tokens[k]
        if tok.stops and k != last:
            break
        if _org_token(tok, 1) and tok.lower not in _HONORIFICS and not _is_time_word(tok):
            k -= 1
            continue
        if tok.lower in ("of", "&", "and") and k != last:
            k -= 1
            continue
        break
    first = k + 1
    while first <= last and tokens[first].lower in ("of", "&", "and"):
        first += 1
    if first > last or (tokens[last].stops and last != index - 1):
        return None
    if tokens[first].lower in _NOT_ORG or tokens[last].lower in ORG_REFERENCES:
        return None
    return doc.span(first, last)


def _read_person(doc: _Doc, index: int) -> int | None:
    """The index after a person's name starting at ``index`` (honorific, given names, initials, suffix)."""
    tokens = doc.tokens
    n = len(tokens)
    k = index
    if k < n and tokens[k].lower in _HONORIFICS:
        k += 1
    start = k
    while k < n and k - start < 5:
        tok = tokens[k]
        if tok.lead and "(" in tok.lead:
            break
        if not tok.capitalized or not tok.core[0].isalpha() or (_is_title_word(tok) and k > start) \
                or tok.lower in _NOT_ORG:
            break
        k += 1
        if tok.stops:
            break
    if k < n and tokens[k - 1].trail == "," and tokens[k].lower in _NAME_SUFFIXES:
        k += 1
    return k if k > start else None


# --------------------------------------------------------------------------------------------------
# Role patterns
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Role:
    title: str | None
    organization: str | None


@dataclass(slots=True)
class _Found:
    title: _Title | None = None
    org: _Org | None = None
    trigger: int = 0  # token index where the trigger starts
    needs_title_word: bool = False


_I = re.IGNORECASE
_A = r"(?:(?:an?|the|its|their|his|her|my|our)\s+)?(?:new\s+)?"


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, _I)


_STEP_AS = _re(r"(?:\s+[\w.'-]+){0,4}?\s+as\s+" + _A)
_STEP_APPOSITIVE_AS = _re(r",?\s+(?:as\s+|to\s+(?:the\s+(?:(?:new|additional|newly\s+created|vacant)\s+)?"
                          r"(?:post|position|role|office|title)s?\s+of\s+)?)?(?:the\s+company's\s+"
                          r"|the\s+firm's\s+|the\s+bank's\s+)?" + _A)
_STEP_SUCCEED_AS = _re(r",?\s+as\s+" + _A)
_AS_TITLE = _re(r"\s+as\s+" + _A)


class _Pattern:
    """A trigger regex and what to read after it."""

    __slots__ = ("handler", "regex")

    def __init__(self, regex: str, handler: Callable[[_Doc, re.Match[str]], _Found | None]) -> None:
        self.regex = _re(regex)
        self.handler = handler


def _title_at(doc: _Doc, offset: int, *, needs_title_word: bool = False) -> _Found | None:
    title = _read_title(doc, doc.index_at(offset))
    if title is None:
        return None
    found = _Found(title=title, needs_title_word=needs_title_word)
    _org_after_title(doc, found)
    return found


def _org_after_title(doc: _Doc, found: _Found) -> None:
    title = found.title
    if title is None or found.org is not None:
        return
    if title.org_prep is not None:
        found.org = _read_org(doc, title.org_prep)
        org = found.org
        # "Assistant Professor in the Department of Computer Science at Cornell University"
        after = doc.get(org.last + 1) if org is not None else None
        if org is not None and org.text and doc.tokens[org.first].lower in _UNIT_NOUNS \
                and not doc.tokens[org.last].stops and after is not None and after.lower == "at":
            outer = _read_org(doc, org.last + 2, allow_reference=False)
            if outer is not None and outer.text:
                found.org = org = outer
        # "started my internship at NASA JPL as a Flight Software Intern": the "as" names the job.
        if org is not None and org.text and title.text.lower() in _JOB_NOUNS and not doc.tokens[org.last].stops:
            step = _AS_TITLE.match(doc.text, doc.tokens[org.last].end)
            if step is not None:
                better = _read_title(doc, doc.index_at(step.end()))
                if better is not None:
                    found.title = better
    elif title.org_reference:
        found.org = _Org(title.next_index, title.next_index, None, title.next_index)


_JOB_NOUNS = frozenset({"internship", "appointment", "residency", "fellowship", "co-op", "placement",
                        "apprenticeship", "position", "role", "job", "new role", "new job", "new position"})


def _title(doc: _Doc, match: re.Match[str]) -> _Found | None:
    return _title_at(doc, match.end())


def _titled(doc: _Doc, match: re.Match[str]) -> _Found | None:
    return _title_at(doc, match.end(), needs_title_word=True)


def _org_then_title(doc: _Doc, match: re.Match[str]) -> _Found | None:
    """``join(ed) ORG [a few words] as TITLE``, or just ``join(ed) ORG``."""
    org = _read_org(doc, doc.index_at(match.end()))
    if org is None:
        return None
    found = _Found(org=org)
    end = doc.tokens[org.last].end if org.last < len(doc.tokens) else match.end()
    if not doc.tokens[org.last].stops:
        step = _STEP_AS.match(doc.text, end)
        if step is not None and not re.search(r"[.!?;]", doc.text[end:step.start(0) + len(step.group(0))]):
            found.title = _read_title(doc, doc.index_at(step.end()))
    return found


def _person_then_title(step: re.Pattern[str]) -> Callable[[_Doc, re.Match[str]], _Found | None]:
    """``named PERSON[, appositive][, appositive], as TITLE``: tries each appositive boundary in turn."""

    def handle(doc: _Doc, match: re.Match[str]) -> _Found | None:
        after_person = _read_person(doc, doc.index_at(match.end()))
        if after_person is None:
            return None
        offset = doc.tokens[after_person - 1].end
        fallback: _Found | None = None
        for _ in range(3):
            moved = step.match(doc.text, offset)
            if moved is not None:
                found = _title_at(doc, moved.end(), needs_title_word=True)
                if found is not None and found.title is not None and _has_title_word(doc, found.title):
                    bare = not re.search(r"\b(?:as|to)\b", moved.group(), _I)
                    if not (bare and doc.text.startswith(",", offset) and doc.tokens[found.title.last].trail == ","):
                        return found
                    # ", its president, to the post of CEO": a comma-enclosed title is the current one
                    fallback = fallback or found
            comma = doc.text.find(",", offset + 1, offset + 160)
            if comma < 0:
                break
            offset = comma
        return fallback

    return handle


def _has_title_word(doc: _Doc, title: _Title) -> bool:
    return any(_is_title_word(doc.tokens[i]) for i in range(title.first, title.last + 1))


def _founded(doc: _Doc, match: re.Match[str]) -> _Found | None:
    verb = match.group("verb").lower()
    start = doc.index_at(match.end())
    org = _read_org(doc, start, allow_reference=False)
    found = _Found(org=org)
    founder = "Co-founder" if verb.startswith("co") else "Founder"
    found.title = _Title(0, 0, founder, start)
    if org is not None and org.text and not doc.tokens[org.last].stops:
        step = re.compile(r"\s+as\s+" + _A, _I).match(doc.text, doc.tokens[org.last].end)
        if step is not None:
            title = _read_title(doc, doc.index_at(step.end()))
            if title is not None:
                found.title = title
    return found


_J = r"join(?:ed|s|ing)?"
_START = r"(?:start(?:ed|ing|s)?|began|begin(?:ning|s)?|commenc(?:ed|ing)|kick(?:ed|ing)\s+off)"
_NAMED = r"(?:named|appointed|elected|hired|tapped|selected|chosen|promoted|installed|confirmed|elevated)"
_AUX = r"(?:was|were|is|are|been|be|being|has\s+been|have\s+been|had\s+been|will\s+be|gets|got)"
_ADV = r"(?:(?:officially|formally|unanimously|recently|just|also|now|today)\s+)?"

_POSITION_AS = _Pattern(r"\b(?:position|role|job|post|gig|appointment)\s+as\s+" + _A, _title)
_OFFER_AS = _Pattern(r"\baccept(?:ed|s|ing)?\s+(?:an?\s+|the\s+)?(?:job\s+|full[- ]time\s+|internship\s+)?"
                     r"offer\s+(?:to\s+(?:work|join|serve)\s+as|as|for\s+(?:the|a|an)\s+(?:position|role)\s+of)\s+"
                     + _A, _title)
_OFFER_FROM = _Pattern(r"\b(?:accept(?:ed|s|ing)?|received|got|signed)\s+(?:an?\s+|the\s+|my\s+)?(?:job\s+|"
                       r"full[- ]time\s+|return\s+)?offer\s+(?:from|with|at)\s+", _org_then_title)
_POSITION_WITH = _Pattern(r"\b(?:accept(?:ed|s|ing)?|acceptance\s+of|took|take|taking|took\s+up|landed|"
                          r"start(?:ed|ing)?)\s+(?:an?\s+|the\s+|my\s+)?(?:new\s+)?(?:position|role|job|post)\s+"
                          r"(?:with|at)\s+", _org_then_title)
_JOIN = _Pattern(r"\b(?:re-?)?" + _J + r"\s+(?!as\b|the\s+(?:team|ranks|board|faculty)\b|forces\b|us\b)",
                 _org_then_title)
_JOIN_TEAM_AT = _Pattern(r"\b" + _J + r"\s+(?:the|a)\s+(?:[\w-]+\s+)?team\s+(?:at|of|with)\s+", _org_then_title)
_START_AT = _Pattern(r"\b" + _START + r"\s+(?:work(?:ing)?\s+|(?:my\s+)?(?:new\s+)?(?:job|role|position)\s+)?"
                     r"(?:at|with)\s+", _org_then_title)
_HIRED_BY = _Pattern(r"\b(?:recruited|hired|poached|brought\s+(?:on|in)|signed|picked\s+up)\s+by\s+", _org_then_title)
_SIGNED_WITH = _Pattern(r"\bsign(?:ed|s|ing)?\s+(?:on\s+)?with\s+", _org_then_title)
_JOIN_AS = _Pattern(r"\b" + _J + r"\s+as\s+" + _A, _title)
_STARTED_AS = _Pattern(r"\b" + _START + r"\s+(?:(?:my|a|the)\s+(?:new\s+)?(?:position|role|job|career|work)\s+)?"
                       r"(?:as|in\s+the\s+role\s+of)\s+" + _A, _title)
_STARTED_MY = _Pattern(r"\b(?:" + _START + r"|accept(?:ed|ing)?|land(?:ed|ing)?|secured|got)\s+"
                       r"(?:my\s+(?:new\s+)?|a\s+new\s+|an?\s+)", _titled)
_WORK_AS = _Pattern(r"\b(?:work(?:ing|s)?|serv(?:e|ing|es))\s+as\s+" + _A, _title)
_SUCCEED = _Pattern(r"\bsucceed(?:s|ed|ing)?\s+", _person_then_title(_STEP_SUCCEED_AS))
_NAMED_PASSIVE = _Pattern(r"\b" + _AUX + r"\s+" + _ADV + _NAMED + r"\s+(?:as\s+|to\s+(?:the\s+(?:post|position|role|"
                          r"office|rank)\s+of\s+)?|into\s+)?" + _A, _titled)
_NAMED_ACTIVE = _Pattern(r"\b(?:" + _NAMED + r"|(?:announced|announces)\s+the\s+(?:appointment|promotion|election|"
                         r"hiring)\s+of|names|appoints|hires|taps|elects|promotes|welcomes)\s+",
                         _person_then_title(_STEP_APPOSITIVE_AS))
_NAMED_BARE = _Pattern(r"\b(?:named|appointed|tapped|promoted)\s+(?:as\s+|to\s+)?" + _A, _titled)
_BECOME = _Pattern(r"\b(?:will\s+become|became|becomes|becoming|to\s+become|to\s+be|now)\s+" + _A, _titled)
_THE_NEW = _Pattern(r"\b(?:i'm|i\s+am|i've\s+become|as|is|now)\s+(?:officially\s+)?(?:the|a|an|our)\s+new\s+",
                    _titled)
_NEW_ROLE_COLON = _Pattern(r"\bnew\s+(?:role|job|position|gig|chapter)\s*[:\-]\s*" + _A, _title)
_MOVED_TO = _Pattern(r"\b(?:mov(?:ed|ing|e)|switch(?:ed|ing)|transition(?:ed|ing)|head(?:ed|ing))\s+to\s+",
                     _org_then_title)
_DAY_ONE = _Pattern(r"\b(?:first\s+day|day\s+(?:one|1))\s+(?:at|with)\s+", _org_then_title)
_PROMOTED_TO = _Pattern(r"\b(?:promot(?:ed|ion)|elevated|upgraded|advanced|bumped\s+up)\s+"
                        r"(?:(?:me|him|her|them|us)\s+)?(?:to|into|as)\s+"
                        r"(?:the\s+(?:position|role|rank|title)\s+of\s+)?" + _A, _title)
_MOVED_UP = _Pattern(r"\b(?:moved|stepped|step)\s+up\s+(?:to|as|into)\s+" + _A, _title)
_AS_AT = _Pattern(r"\bas\s+" + _A, _title)  # last resort: "as a TITLE at ORG"

_FOUNDED = _Pattern(
    r"\b(?P<verb>co-?founded|co-?found(?:ing)?|founded|found|launched|launch(?:ing)?|started|start(?:ing)?|"
    r"opened|open(?:ing)?|established|establish(?:ing)?|creat(?:ed|ing)|set\s+up|built)\s+"
    r"(?:(?:my|his|her|their|our)\s+(?:own\s+)?|an?\s+(?:new\s+)?|the\s+)?"
    r"(?:(?:[\w-]+\s+){0,3}?(?:company|business|firm|practice|agency|studio|startup|start-up|store|shop|label|brand"
    r"|consultancy|venture|network|line|clinic|salon|restaurant|bakery|saas|app|platform|companies)\b)?"
    r"(?:\s*(?:called|named)\b)?[\s,:\-]*",
    _founded)

_PATTERNS: dict[str, tuple[_Pattern, ...]] = {
    "new_employment": (_POSITION_AS, _OFFER_AS, _OFFER_FROM, _POSITION_WITH, _JOIN_TEAM_AT, _JOIN, _JOIN_AS,
                       _START_AT, _HIRED_BY, _SIGNED_WITH, _STARTED_AS,
                       _SUCCEED, _NAMED_PASSIVE, _NAMED_ACTIVE, _BECOME, _THE_NEW, _NEW_ROLE_COLON, _STARTED_MY,
                       _DAY_ONE, _MOVED_TO, _NAMED_BARE, _WORK_AS, _AS_AT),
    "promotion": (_PROMOTED_TO, _SUCCEED, _NAMED_PASSIVE, _NAMED_ACTIVE, _MOVED_UP, _BECOME, _THE_NEW,
                  _POSITION_AS, _NEW_ROLE_COLON, _NAMED_BARE, _AS_AT),
    "business_launch": (_FOUNDED,),
}

# Press releases and news briefs open with the organization: "Acme Inc. (NYSE: ACM) today announced",
# "Acme Corp. (Springfield, Ill.) -- Jane Doe was named", "NEW YORK, May 1, 2024 /PRNewswire/ -- Acme …".
_DATELINE = re.compile(r"^[^\n]{0,120}?(?:/[A-Za-z ]+/|\d{4}|[A-Z]{2,}[^a-z\n]{0,40})\s*(?:--|-|:)\s+")
_PRESS_SUBJECT = re.compile(
    r"^\s*(?P<org>[A-Z0-9][^()\n]{1,90}?)(?:\s*\([^)]{1,60}\))?(?:,\s.{1,220}?,)?\s+"
    r"(?:(?:today|yesterday|on\s+\w+|has|have|recently|\w+day)\s+)?(?i:announced|announces|said|says|named|names|"
    r"has\s+named|appointed|appoints|has\s+appointed|elected|elects|has\s+elected|promoted|promotes|hired|hires|"
    r"reported|disclosed|confirmed|welcomes|welcomed|(?:is|are)\s+(?:pleased|proud|excited|delighted|happy)\s+to\s+"
    r"(?:announce|welcome|share))\b")
_POSSESSIVE_BOARD = re.compile(r"^\s*(?P<org>[A-Z][^()\n]{1,80}?)'s\s+(?:board|Board)\b")
_WSJ_HEAD = re.compile(r"^\s*(?P<org>[A-Z0-9][^()\n]{1,90}?)\s*\([^)]{1,60}\)\s*--")


@lru_cache(maxsize=4096)
def leading_organization(text: str) -> str | None:
    """The organization a press release or news brief opens with, if it opens with one."""
    text = text.translate(_QUOTES)
    head = _WSJ_HEAD.match(text)
    if head is None:
        body = text
        dateline = _DATELINE.match(text)
        if dateline is not None and len(dateline.group(0)) < 130:
            body = text[dateline.end():]
        head = _POSSESSIVE_BOARD.match(body) or _PRESS_SUBJECT.match(body)
        if head is None and body is not text:
            head = _POSSESSIVE_BOARD.match(text) or _PRESS_SUBJECT.match(text)
    if head is None:
        return None
    return _trailing_org(head.group("org"))


def _trailing_org(phrase: str) -> str | None:
    """The organization at the end of a subject phrase ("High-tech maker Coherent, Inc." → "Coherent, Inc.")."""
    doc = _Doc(phrase.strip())
    tokens = doc.tokens
    if not tokens:
        return None
    k = len(tokens) - 1
    while k >= 0:
        tok = tokens[k]
        if (tok.capitalized and _is_word(tok) and not tok.lower.endswith("-based")) or tok.core == "&" or (
                tok.lower in ("of", "and", "&", "de", "x") and k < len(tokens) - 1):
            k -= 1
            continue
        break
    first = k + 1
    while first < len(tokens) and tokens[first].lower in ("of", "and", "&", "de", "x", "the"):
        first += 1
    if first >= len(tokens):
        return None
    # An organization ending in a legal suffix ends there ("Duracell International Inc. of Bethel").
    last = len(tokens) - 1
    for j in range(first + 1, last + 1):
        if tokens[j].lower in _LEGAL_SUFFIXES and tokens[j].lower not in ("co", "sa", "ag"):
            last = j
            break
    name = doc.span(first, last).rstrip(",")
    words = name.lower().split()
    if not words or words[0] in _NOT_ORG or words[-1] in ("board", "directors") or name.lower() in ORG_REFERENCES:
        return None
    if words[0] in _HONORIFICS or (words[0] in _given_names() and words[-1].rstrip(".") not in ORG_SUFFIXES):
        return None
    return name


_AT_ORG = re.compile(r"\b(?:at|with|joined|join|returned\s+to|rejoined|employed\s+by|working\s+for)\s+", _I)


def _fallback_org(doc: _Doc, trigger: int) -> str | None:
    """For a promotion: the employer named around it ("At Acme, I was promoted", "… at Hire.com, where …")."""
    best: tuple[int, str] | None = None
    for match in _AT_ORG.finditer(doc.text):
        org = _read_org(doc, doc.index_at(match.end()), allow_reference=False)
        if org is None or not org.text or _looks_like_person_or_place(org.text):
            continue
        distance = abs(doc.index_at(match.start()) - trigger)
        before = doc.index_at(match.start()) <= trigger
        key = distance if before else distance + 1000
        if best is None or key < best[0]:
            best = (key, org.text)
    return best[1] if best else None


def _looks_like_person_or_place(text: str) -> bool:
    words = text.split()
    if not words:
        return True
    first = words[0].lower()
    if first in _HONORIFICS or text.lower().rstrip(".") in _US_STATE_NAMES:
        return True
    return _is_time_word(_split_token(words[0], 0))


_CONNECTORS = frozenset({"of", "and", "&", "the", "for", "in"})
_UNIT_TAILS = _wordset("hotel store branch office division team unit plant location region department program "
                        "programme group practice restaurant clinic site campus")


def _split_of(doc: _Doc, found: _Found) -> None:
    """"chief executive officer of Qwest": the tail after the last "of"/"in" is the employer when it is no
    department or field ("Director of Sales", "Professor of Chemical Engineering")."""
    title = found.title
    if title is None or title.of_split is None or found.org is not None:
        return
    start = title.of_split + 1
    if doc.tokens[start].lower == "the":
        start += 1
    tail = range(start, title.last + 1)
    words = [doc.tokens[i].lower.rstrip(".,") for i in tail if doc.tokens[i].lower not in _CONNECTORS]
    if not words:
        return
    if words[-1] not in ORG_SUFFIXES:
        if all(w in FUNCTION_WORDS or w in FIELD_MODIFIERS or w in REGION_WORDS for w in words):
            return  # a department or a field
        if not doc.tokens[title.last].capitalized and words[-1] in _UNIT_TAILS:
            return  # "General Manager of the Downtown Phoenix hotel"
    if any(_is_title_word(doc.tokens[i]) and doc.tokens[i].lower not in ORG_SUFFIXES for i in tail):
        return  # "Partner and Head of …"
    if _looks_like_person_or_place(doc.span(tail.start, tail.stop - 1)):
        return
    org_text = doc.span(tail.start, title.last)
    found.org = _Org(tail.start, title.last, org_text, title.last + 1)
    last = title.of_split - 1
    title.text = doc.span(title.first, last)
    title.last = last


_SIBLING = {"new_employment": "promotion", "promotion": "new_employment"}


def extract_role(text: str, label: str) -> Role:
    """The job title and organization of a new job, a promotion or a business launch (else both None)."""
    patterns = _PATTERNS.get(label)
    if not patterns:
        return Role(None, None)
    clean = text.translate(_QUOTES)
    doc = _Doc(clean)
    # A new job and a promotion are easy to confuse; when the label's own patterns find nothing, the other's
    # may ("promoted" classified as a new job still names its title).
    other = _PATTERNS.get(_SIBLING.get(label, ""), ())
    for pattern in (*patterns, *(p for p in other if p not in patterns)):
        for match in pattern.regex.finditer(clean):
            found = pattern.handler(doc, match)
            if found is None:
                continue
            if found.title is not None and found.needs_title_word and label != "business_launch" \
                    and not _has_title_word(doc, found.title):
                found.title = None
            if found.title is None and (found.org is None or (found.org.text is None and label != "promotion")):
                continue
            found.trigger = doc.index_at(match.start())
            return _finish_role(doc, clean, label, found)
    return Role(None, None)


def _finish_role(doc: _Doc, text: str, label: str, found: _Found) -> Role:
    _split_of(doc, found)
    title = found.title.text if found.title is not None else None
    organization = found.org.text if found.org is not None else None
    if organization is not None and _looks_like_person_or_place(organization):
        organization = None
    if organization is None and label != "business_launch":
        is_reference = found.org is not None and found.org.text is None
        leading = leading_organization(text)
        if leading is not None and (is_reference or label == "promotion" or _press_style(text)):
            organization = leading
        elif label == "promotion" and not is_reference:
            before = _read_org_back(doc, found.trigger)
            organization = before or _fallback_org(doc, found.trigger)
    if title is not None:
        title = title.strip(" -:,")
    return Role(title or None, organization)


def _press_style(text: str) -> bool:
    return bool(_PRESS_SUBJECT.match(text)) or "--" in text[:160] or "/PRNewswire/" in text


# --------------------------------------------------------------------------------------------------
# Credentials: certifications, licenses, awards, degrees
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CredentialMention:
    name: str
    issuer: str | None


#: Well-known certifications and exams → their issuer.
CERT_ISSUERS: dict[str, str] = {
    "aws": "Amazon Web Services", "amazon web services": "Amazon Web Services", "azure": "Microsoft",
    "microsoft": "Microsoft", "az-": "Microsoft", "gcp": "Google Cloud", "google cloud": "Google Cloud",
    "google": "Google", "pmp": "PMI", "capm": "PMI", "pmi-": "PMI", "cissp": "ISC2", "(isc)": "ISC2", "ccsp": "ISC2",
    "cisa": "ISACA", "cism": "ISACA", "crisc": "ISACA", "cgeit": "ISACA", "comptia": "CompTIA", "security+": "CompTIA",
    "network+": "CompTIA", "a+": "CompTIA", "project+": "CompTIA", "ccna": "Cisco", "ccnp": "Cisco", "ccie": "Cisco",
    "cisco": "Cisco", "cka": "CNCF", "ckad": "CNCF", "cks": "CNCF", "kubernetes": "CNCF", "cfa": "CFA Institute",
    "cpa": "AICPA", "frm": "GARP", "oscp": "OffSec", "oswe": "OffSec", "ceh": "EC-Council", "psm": "Scrum.org",
    "pspo": "Scrum.org", "csm": "Scrum Alliance", "cspo": "Scrum Alliance", "salesforce": "Salesforce",
    "terraform": "HashiCorp", "hashicorp": "HashiCorp", "rhce": "Red Hat", "rhcsa": "Red Hat", "red hat": "Red Hat",
    "oracle": "Oracle", "itil": "Axelos", "nclex": "NCSBN", "shrm": "SHRM", "phr": "HRCI",
    "sphr": "HRCI", "cma": "IMA", "cia": "IIA", "acca": "ACCA", "databricks": "Databricks", "snowflake": "Snowflake",
    "tableau": "Tableau", "hubspot": "HubSpot", "certnexus": "CertNexus", "red seal": "Red Seal Program",
}  # fmt: skip
_CERT_KEYS = sorted(CERT_ISSUERS, key=len, reverse=True)

_NAME = r"(?P<name>[^.!?;\n]{2,90}?)"
_STUDY_START = r"\b(?:started|starting|begin|began|beginning|pursuing|start)\s+(?:my\s+|a\s+|the\s+|his\s+|her\s+)?"
_DEGREE_START = (r"(?:Ph\.?D\.?|PhD|M\.?S\.?c?\.?|B\.?S\.?c?\.?|master(?:'s)?|bachelor(?:'s)?|Master(?:'s)?|"
                 r"Bachelor(?:'s)?|MBA|doctorate|Dual\s+Degree|degree|undergrad)")
_CREDENTIAL_PATTERNS: dict[str, tuple[re.Pattern[str], ...]] = {
    "certification": (
        _re(r"\b(?:passed|pass|cleared|aced|took\s+and\s+passed|completed)\s+(?:the\s+|my\s+|an?\s+)?" + _NAME
            + r"\s+(?:exams?|examinations?|tests?|certification\s+exam|course)\b"),
        _re(r"\b(?:earned|obtained|achieved|received|got|completed|awarded|hold|holding)\s+(?:the\s+|my\s+|an?\s+"
            r"(?:new\s+)?)?" + _NAME + r"\s+(?:certification|certificate|credential|badge)\b"),
        _re(r"\bnew\s+certification\s*:\s*" + _NAME + r"(?:\s+from\b|[.!]|$)"),
        _re(r"\b(?:certified|certificated)\s+(?:as\s+)?(?:an?\s+)?" + _NAME + r"(?=\s+(?:by|from|through|in\s+\d)\b|"
            r"[.!,;)]|$)"),
        _re(r"\b(?:i\s+)?passed\s+(?:the\s+|my\s+)?(?P<name>[A-Z][\w+\-]*(?:\s+[A-Z0-9][\w+\-]*){0,5})"),
        _re(r"\bbecame\s+an?\s+(?P<name>certified\s+[^.!?;,\n]{2,60}?)(?=\s+(?:in|at|by|with|on)\b|[.!?,;]|$)"),
    ),
    "license_renewal": (
        _re(r"\b(?P<name>admitted\s+to\s+(?:the\s+)?(?:bar|practice\s+law))(?:\s+(?:of|in)\s+(?P<issuer>[A-Z][\w .]"
            r"{1,60}?))?(?=\s+in\s+\d|[.,;!]|\s+at\b|\s+allowing|$)"),
        _re(r"\b(?P<name>called\s+to\s+the\s+bar)(?:\s+(?:of|in)\s+(?:the\s+)?(?P<issuer>[A-Z][\w .]{1,60}?))?"
            r"(?=\s+in\s+\d|[.,;!]|\s+at\b|$)"),
        _re(r"\b(?:passed|pass)\s+(?:the\s+|my\s+)?(?P<name>nclex(?:-rn|-pn)?(?:\s+next\s+gen)?|bar(?:\s+exam)?|"
            r"board\s+exams?|[\w-]+\s+(?:licensing|licensure|board)\s+exam)"),
        _re(r"\b(?:renewed|received|obtained|got|earned|holds?|secured)\s+(?:his\s+|her\s+|my\s+|their\s+|the\s+|an?\s+)?"
            r"(?P<name>(?:[\w-]+\s+){0,3}?licen[cs]e(?:\s+to\s+practice\s+[\w ]{2,30}?)?)(?=\s+(?:in|as|from|at|"
            r"with|but|and|on)\b|[.,;!]|$)"),
        _re(r"\bbecame\s+(?:an?\s+)?(?P<name>(?:licensed|registered)\s+[^.!?;,\n]{2,50}?)(?=\s+(?:in|at|by|with|on|"
            r"for|and)\b|[.!?,;]|$)"),
        _re(r"\b(?P<name>licensed\s+in\s+[^.!?;\n]{2,60}?)(?=\s+in\s+\d|[.!?;]|$)"),
        _re(r"\bsworn\s+in\s+as\s+(?:an?\s+)?(?P<name>[\w ]{2,40}?)(?=\s+(?:and|in|at)\b|[.,;!]|$)"),
    ),
    "award": (
        _re(r"\b(?:inducted\s+into)\s+(?:the\s+)?(?P<name>[^.!?;,\n]{2,80}?Hall\s+of\s+Fame)"),
        _re(r"\b(?:named|elected)\s+(?:as\s+)?an?\s+(?P<name>Fellow)\s+of\s+(?:the\s+)?(?P<issuer>[A-Z][^.!?;,\n(]"
            r"{1,80}?)(?=\s*\(|\s+in\s+\d|\s+for\s+(?![A-Z])|[.,;!\"]|$)"),
        _re(r"\b(?:elected|named)\s+(?:as\s+)?an?\s+(?P<name>[A-Z][\w-]*(?:\s+[A-Z][\w-]*){0,3}\s+Fellow)"),
        _re(r"\b(?:received|receive|receiving|won|win|winning|awarded|earned|got|accepted|granted|given|presented"
            r"\s+with|recipient\s+of|honou?red\s+with|co-recipient\s+of)\s+(?:the\s+|a\s+|an\s+|my\s+|his\s+|her\s+"
            r"|their\s+|our\s+|several\s+|two\s+|three\s+)?(?:\d{4}\s+)?(?P<name>[^.!?;,\n]{2,90}?(?:Award|Awards"
            r"|Prize|Medal|Fellowship|Scholarship|Grant|Honou?r|Doctorate|Trophy|Cup|Championship|Recognition|"
            r"award|prize|medal|fellowship|scholarship|grant|honou?r|trophy|place|Place|Star|Order\s+of\s+[\w ]+))"
            r"(?:\s+(?:from|by)\s+(?:the\s+)?(?P<issuer>[A-Z][^.!?;,\n(]{1,70}?))?(?=\s+(?:at|for|in|from|by|on|"
            r"and|with|to)\b|[.,;!:(\"]|$)"),
        _re(r"\b(?:crowned|voted|ranked|named)\s+(?:the\s+)?(?P<name>[^.!?;,\n]{2,60}?(?:Champion|of\s+the\s+Year|"
            r"Winner|MVP|Player|Honoree))"),
        _re(r"\bplaced\s+(?P<name>\d+(?:st|nd|rd|th)|first|second|third)\s+(?:place\s+)?(?:at|in)\s+(?:the\s+)?"
            r"(?P<issuer>[^.!?;,\n]{2,60}?)(?=\s+in\s+|[.,;!]|$)"),
    ),
    "education": (
        _re(r"\b(?:received|earned|obtained|completed|got|awarded|graduated\s+with|holds?|finished)\s+(?:his\s+|her\s+|"
            r"my\s+|their\s+|an?\s+|the\s+)?(?:second\s+|first\s+)?(?P<name>(?:B\.?A\.?|B\.?S\.?c?\.?|M\.?A\.?|"
            r"M\.?S\.?c?\.?|M\.?B\.?A\.?|Ph\.?\s?D\.?|M\.?D\.?|J\.?D\.?|LL\.?[BM]\.?|B\.?F\.?A\.?|M\.?F\.?A\.?|"
            r"B\.?Eng\.?|M\.?Eng\.?|B\.?Tech\.?|M\.?Tech\.?|Bachelor(?:'s)?|Master(?:'s)?|Masters|Doctorate|"
            r"doctorate|bachelor(?:'s)?|master(?:'s)?|degree|diploma|Associate(?:'s)?\s+degree|Juris\s+Doctor|"
            r"undergrad)[^.!?;,\n]{0,60}?)(?:\s+(?:from|at)\s+(?:the\s+)?(?P<issuer>[A-Z][^.!?;,\n(]{1,70}?))?"
            r"(?=\s+(?:in\s+\d|with|and|where|after|under|working|advised)\b|\s+in\s+\d{4}|[.,;!(]|$)"),
        _re(r"\bgraduated\s+(?:from\s+)?(?:the\s+)?(?P<issuer>[A-Z][^.!?;,\n(]{1,70}?)(?:\s+with\s+(?:an?\s+|my\s+)?"
            r"(?P<name>[^.!?;,\n]{2,60}?))?(?=\s+(?:in\s+\d|with|and|where|after)\b|[.,;!(]|$)"),
        _re(_STUDY_START + r"(?P<name>" + _DEGREE_START + r"[^.!?;,\n]{0,50}?)\s+at\s+(?:the\s+)?"
            r"(?P<issuer>[A-Z][^.!?;,\n(]{1,60}?)(?=\s+(?:next|this|in\s+\d|advised|under|with)\b|[.,;!(]|$)"),
        _re(_STUDY_START + r"(?P<name>" + _DEGREE_START + r"[^.!?;,\n]{0,50}?)(?:\s+(?:at|in)\s+(?:the\s+)?"
            r"(?P<issuer>[A-Z][^.!?;,\n(]{1,60}?))?(?=\s+(?:next|this|in\s+\d|advised|under|with)\b|[.,;!(]|$)"),
        _re(r"\b(?:admitted|accepted)\s+(?:in)?to\s+(?:the\s+)?(?P<name>(?:Ph\.?D\.?|PhD|master(?:'s)?|MBA|"
            r"doctoral|graduate)[^.!?;,\n]{0,40}?program)(?:\s+(?:at|of)\s+(?:the\s+)?(?P<issuer>[A-Z][^.!?;,\n(]"
            r"{1,60}?))?(?=[.,;!(]|\s+in\b|$)"),
        _re(r"\b(?:join(?:ed|ing)?|joins)\s+(?:the\s+)?(?P<issuer>[A-Z][^.!?;,\n(]{1,60}?)\s+(?:as\s+an?\s+|for\s+"
            r"(?:an?\s+|my\s+)?)(?P<name>(?:Ph\.?D\.?|PhD|master(?:'s)?|MSc|doctoral)[\w ]{0,20})"),
        _re(r"\bdefended\s+(?:my\s+|his\s+|her\s+)?(?P<name>(?:Ph\.?D\.?|PhD|master(?:'s)?|doctoral)?\s*"
            r"(?:thesis|dissertation)|Ph\.?D\.?)(?:\s+at\s+(?P<issuer>[A-Z][^.!?;,\n(]{1,60}?))?(?=[.,;!(]|$|\s)"),
    ),
}


def _cert_issuer(name: str) -> str | None:
    lowered = name.lower()
    for key in _CERT_KEYS:
        if key.endswith("-") or key.endswith("+") or key.startswith("("):
            if key in lowered:
                return CERT_ISSUERS[key]
        elif re.search(r"(?<![\w])" + re.escape(key) + r"(?![\w])", lowered):
            return CERT_ISSUERS[key]
    return None


_EXPLICIT_ISSUER = _re(r"\b(?:from|by|through|issued\s+by|via)\s+(?:the\s+)?(?P<issuer>[A-Z][\w.&+\-]*(?:\s+"
                       r"(?:of\s+|&\s+|and\s+)?[A-Z][\w.&+\-]*){0,5})")


def extract_credential(text: str, label: str) -> CredentialMention | None:
    """The certification, license, award or degree the text reports, and who issued it."""
    patterns = _CREDENTIAL_PATTERNS.get(label)
    if not patterns:
        return None
    clean = " ".join(text.translate(_QUOTES).split())
    for regex in patterns:
        match = regex.search(clean)
        if match is None:
            continue
        name = (match.group("name") or "graduation").strip(" -:,\"'")  # "graduated from X": no degree named
        name = re.sub(r"^(?:the|a|an|my|his|her|their)\s+", "", name, flags=_I)
        if not name or len(name) < 2:
            continue
        groups = match.groupdict()
        issuer = (groups.get("issuer") or "").strip(" -:,\"'") or None
        if issuer is None and label == "certification":
            tail = _EXPLICIT_ISSUER.match(clean, match.end()) or _EXPLICIT_ISSUER.search(clean[match.end():
                                                                                               match.end() + 40])
            issuer = tail.group("issuer") if tail is not None else _cert_issuer(name)
        elif issuer is None and label == "license_renewal" and "nclex" in name.lower():
            issuer = "NCSBN"
        elif issuer is None and label in ("award", "education"):
            tail = _EXPLICIT_ISSUER.match(clean, match.end())
            if tail is None:
                tail = re.compile(r"\s+(?:at|from)\s+(?:the\s+)?(?P<issuer>[A-Z][\w.&+\-]*(?:\s+(?:of\s+|&\s+|and\s+)?"
                                  r"[A-Z][\w.&+\-]*){0,6})").match(clean, match.end())
            issuer = tail.group("issuer") if tail is not None else None
        if issuer is not None:
            issuer = re.sub(r"\s+(?:in|on)$", "", issuer).strip(" ,")
            if issuer.endswith(".") and issuer.split()[-1].lower() not in _LEGAL_SUFFIXES:
                issuer = issuer[:-1]
            if _is_time_word(_split_token(issuer.split()[0], 0)) or issuer.split()[0].lower() in _NOT_ORG:
                issuer = None
        return CredentialMention(name, issuer)
    return None


# --------------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DateMention:
    text: str
    start: int
    end: int
    value: date | None  # normalized against the reference date; None when it cannot be placed
    granularity: str  # day | week | month | season | year
    cue: str | None = None  # "effective", "as of", "starting", … when the text says the date is when it takes effect


_MONTH_RE = (r"(?P<month>Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
             r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_SEASONS = {"spring": 3, "summer": 6, "fall": 9, "autumn": 9, "winter": 12}
# Cues are read from the few words before a date (a pattern starting with an optional cue would be tried at
# every position of the text, which made dates the slowest extractor).
_CUE_BEFORE = re.compile(r"\b(?:as\s+of|effective(?:\s+(?:on|from|as\s+of))?|starting(?:\s+on|\s+from)?|"
                         r"beginning(?:\s+on)?|from|on|since|until|by|in)\s+$", _I)
_DATE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("iso", re.compile(r"\b(?P<y>(?:19|20)\d\d)-(?P<m>[01]?\d)-(?P<d>[0-3]?\d)\b", _I)),
    ("numeric", re.compile(r"\b(?P<m>[01]?\d)/(?P<d>[0-3]?\d)/(?P<y>(?:19|20)?\d\d)\b", _I)),
    ("mdy", re.compile(r"\b" + _MONTH_RE + r"\s+(?P<d>[0-3]?\d)(?:st|nd|rd|th)?(?:,\s*|\s+)"
                       r"(?P<y>(?:19|20)\d\d)\b", _I)),
    ("dmy", re.compile(r"\b(?P<d>[0-3]?\d)(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH_RE
                       + r",?\s+(?P<y>(?:19|20)\d\d)\b", _I)),
    ("my", re.compile(r"\b(?:(?:early|mid|late)[\s-]+)?" + _MONTH_RE
                      + r",?\s+(?:of\s+)?(?P<y>(?:19|20)\d\d)\b", _I)),
    ("md", re.compile(r"\b" + _MONTH_RE + r"\s+(?P<d>[0-3]?\d)(?:st|nd|rd|th)?\b(?!\s*,?\s*\d)", _I)),
    ("season_year", re.compile(r"\b(?P<season>spring|summer|fall|autumn|winter)\s+(?:of\s+)?"
                               r"(?P<y>(?:19|20)\d\d)\b", _I)),
    ("relative_season", re.compile(r"\b(?P<rel>this|next|last|coming)\s+(?P<season>spring|summer|fall|"
                                   r"autumn|winter)\b", _I)),
    ("relative_unit", re.compile(r"\b(?P<rel>this|next|last|coming)\s+(?P<unit>week|month|year|quarter)\b", _I)),
    ("weekday", re.compile(r"\b(?:(?P<rel>this|next|last|coming)\s+)?(?P<wd>monday|tuesday|wednesday|thursday"
                           r"|friday|saturday|sunday)\b", _I)),
    ("ago", re.compile(r"\b(?P<n>\d+|an?|one|two|three|four|five|six|several|a\s+couple(?:\s+of)?|a\s+few|few)\s+"
                       r"(?P<unit>day|week|month|year)s?\s+ago\b", _I)),
    ("in_n", re.compile(r"\bin\s+(?P<n>\d+|an?|one|two|three|four|five|six|a\s+couple(?:\s+of)?|a\s+few)\s+"
                        r"(?P<unit>day|week|month|year)s?\b", _I)),
    ("deictic", re.compile(r"\b(?P<word>today|yesterday|tomorrow|tonight)\b", _I)),
    ("year", re.compile(r"(?<![\d$/\-.])\b(?P<y>(?:19|20)\d\d)\b(?![\d/\-]|\.\d)", _I)),
)
#: What a text must contain for each pattern to be worth running (any of these hints; "0" stands for a digit).
_NEEDS: dict[str, frozenset[str]] = {
    "iso": frozenset("0"), "numeric": frozenset("0"), "year": frozenset("0"), "season_year": frozenset("0"),
    "mdy": frozenset({"month"}), "dmy": frozenset({"month"}), "my": frozenset({"month"}), "md": frozenset({"month"}),
    "relative_season": frozenset({"season"}), "relative_unit": frozenset({"relative"}),
    "weekday": frozenset({"weekday"}), "ago": frozenset({"ago"}), "in_n": frozenset({"unit"}),
    "deictic": frozenset({"deictic"}),
}
_HINTS = re.compile(
    r"(?P<digit>\d)|\b(?:(?P<month>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)|(?P<season>spring|summer|fall|"
    r"autumn|winter)|(?P<relative>this|next|last|coming)|(?P<weekday>(?:mon|tues|wednes|thurs|fri|satur|sun)day)|"
    r"(?P<ago>ago)|(?P<unit>days?|weeks?|months?|years?)|(?P<deictic>today|yesterday|tomorrow|tonight))", _I)


def _hints(text: str) -> set[str]:
    found: set[str] = set()
    for match in _HINTS.finditer(text):
        found.add("0" if match.lastgroup == "digit" else str(match.lastgroup))
    return found


_NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "several": 3,
                 "a couple": 2, "a couple of": 2, "a few": 3, "few": 3}
_EFFECTIVE_CUES = ("as of", "effective", "starting", "beginning")


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _month_number(text: str) -> int:
    return _MONTHS[text.lower().rstrip(".")[:4].rstrip("t") if text.lower().startswith("sept") else
                   text.lower().rstrip(".")[:3]]


def _date_value(kind: str, m: re.Match[str], ref: date, cue: str) -> tuple[date | None, str]:
    g = m.groupdict()
    try:
        if kind in ("iso", "numeric", "mdy", "dmy"):
            year = int(g["y"])
            if year < 100:
                year += 2000 if year < 70 else 1900
            month = int(g["m"]) if kind in ("iso", "numeric") else _month_number(g["month"])
            return date(year, month, int(g["d"])), "day"
        if kind == "my":
            return date(int(g["y"]), _month_number(g["month"]), 1), "month"
        if kind == "md":
            value = date(ref.year, _month_number(g["month"]), int(g["d"]))
            if (value - ref).days > 183:
                value = value.replace(year=ref.year - 1)
            elif (ref - value).days > 183:
                value = value.replace(year=ref.year + 1)
            return value, "day"
        if kind == "season_year":
            return date(int(g["y"]), _SEASONS[g["season"].lower()], 1), "season"
        if kind == "relative_season":
            month = _SEASONS[g["season"].lower()]
            start = date(ref.year, month, 1)
            rel = g["rel"].lower()
            if rel in ("next", "coming"):
                if start <= ref:
                    start = start.replace(year=ref.year + 1)
            elif rel == "last" and start >= ref.replace(day=1):
                start = start.replace(year=ref.year - 1)
            return start, "season"
        if kind == "relative_unit":
            step = {"this": 0, "next": 1, "coming": 1, "last": -1}[g["rel"].lower()]
            unit = g["unit"].lower()
            if unit == "week":
                monday = ref - timedelta(days=ref.weekday())
                return monday + timedelta(weeks=step), "week"
            if unit == "month":
                return _add_months(ref.replace(day=1), step), "month"
            if unit == "quarter":
                first = date(ref.year, 3 * ((ref.month - 1) // 3) + 1, 1)
                return _add_months(first, 3 * step), "month"
            return date(ref.year + step, 1, 1), "year"
        if kind == "weekday":
            target = _WEEKDAYS[g["wd"].lower()]
            rel = (g.get("rel") or "").lower()
            if rel == "last" or cue == "since":
                back = (ref.weekday() - target) % 7 or 7
                return ref - timedelta(days=back), "day"
            ahead = (target - ref.weekday()) % 7
            if ahead == 0 and (rel in ("next", "coming") or cue.startswith("starting") or cue.startswith("beginning")):
                ahead = 7
            if rel == "next" and ahead < 7 and ref.weekday() >= target:
                ahead = ahead or 7
            return ref + timedelta(days=ahead), "day"
        if kind in ("ago", "in_n"):
            n_text = g["n"].lower()
            n = int(n_text) if n_text.isdigit() else _NUMBER_WORDS.get(" ".join(n_text.split()), 1)
            unit = g["unit"].lower()
            sign = -1 if kind == "ago" else 1
            if unit == "day":
                return ref + timedelta(days=sign * n), "day"
            if unit == "week":
                return ref + timedelta(weeks=sign * n), "week"
            if unit == "month":
                return _add_months(ref.replace(day=1), sign * n), "month"
            return date(ref.year + sign * n, 1, 1), "year"
        if kind == "deictic":
            offset = {"today": 0, "tonight": 0, "yesterday": -1, "tomorrow": 1}[g["word"].lower()]
            return ref + timedelta(days=offset), "day"
        if kind == "year":
            return date(int(g["y"]), 1, 1), "year"
    except (ValueError, KeyError):
        return None, "day"
    return None, "day"


def extract_dates(text: str, reference_date: date | None = None) -> list[DateMention]:
    """Every date the text mentions, in order, normalized against ``reference_date`` (default: today)."""
    ref = reference_date or date.today()
    taken: list[tuple[int, int]] = []
    found: list[DateMention] = []
    hints = _hints(text)
    for kind, regex in _DATE_PATTERNS:
        if not hints & _NEEDS[kind]:
            continue  # cheaper than scanning the text with a pattern that cannot match
        for match in regex.finditer(text):
            core_start, end = match.span()
            if any(s < end and core_start < e for s, e in taken):
                continue
            if kind == "year" and not _plausible_year(text, match):
                continue
            if kind == "md" and not _plausible_month_day(text, match):
                continue
            before = _CUE_BEFORE.search(text, max(0, core_start - 24), core_start)
            cue = " ".join(before.group().lower().split()) if before else None
            value, granularity = _date_value(kind, match, ref, cue or "")
            if cue is not None and not cue.startswith(_EFFECTIVE_CUES):
                cue = None
            taken.append((core_start, end))
            found.append(DateMention(text[core_start:end], core_start, end, value, granularity, cue))
    found.sort(key=lambda d: d.start)
    return found


def _plausible_year(text: str, match: re.Match[str]) -> bool:
    start = match.start("y")
    before = text[max(0, start - 12):start].lower()
    after = text[match.end("y"):match.end("y") + 8].lower()
    # "2,000 people", "$2019", "Level 2020": not years; "(2022)", "in 2020", "2019." are.
    return not (before.endswith(",") or after.startswith((" people", " employees", " users", " hours", "+")))


def _plausible_month_day(text: str, match: re.Match[str]) -> bool:
    month = match.group("month")
    if month.lower().rstrip(".") == "may" and not month[0].isupper():
        return False
    return month[0].isupper()


def effective_date(dates: Sequence[DateMention], *, near: tuple[int, int] | None = None) -> date | None:
    """The date the event takes effect: a cued date ("effective Oct. 1", "as of Jan 2025"), else the first
    placed date inside (or nearest to) the evidence span."""
    placed = [d for d in dates if d.value is not None]
    if not placed:
        return None
    cued = [d for d in placed if d.cue]
    if cued:
        return cued[0].value
    if near is not None:
        inside = [d for d in placed if near[0] <= d.start < near[1]]
        if inside:
            return inside[0].value
        return min(placed, key=lambda d: min(abs(d.start - near[0]), abs(d.start - near[1]))).value
    return placed[0].value


# --------------------------------------------------------------------------------------------------
# Locations (US states and cities, plus "City, ST")
# --------------------------------------------------------------------------------------------------

US_STATES: dict[str, str] = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA", "colorado": "CO",
    "connecticut": "CT", "delaware": "DE", "florida": "FL", "georgia": "GA", "hawaii": "HI", "idaho": "ID",
    "illinois": "IL", "indiana": "IN", "iowa": "IA", "kansas": "KS", "kentucky": "KY", "louisiana": "LA",
    "maine": "ME", "maryland": "MD", "massachusetts": "MA", "michigan": "MI", "minnesota": "MN",
    "mississippi": "MS", "missouri": "MO", "montana": "MT", "nebraska": "NE", "nevada": "NV",
    "new hampshire": "NH", "new jersey": "NJ", "new mexico": "NM", "new york": "NY", "north carolina": "NC",
    "north dakota": "ND", "ohio": "OH", "oklahoma": "OK", "oregon": "OR", "pennsylvania": "PA",
    "rhode island": "RI", "south carolina": "SC", "south dakota": "SD", "tennessee": "TN", "texas": "TX",
    "utah": "UT", "vermont": "VT", "virginia": "VA", "washington": "WA", "west virginia": "WV",
    "wisconsin": "WI", "wyoming": "WY", "district of columbia": "DC",
}  # fmt: skip
_STATE_BY_CODE = {code: name.title() for name, code in US_STATES.items()}
#: AP style state abbreviations ("Springfield, Ill.").
_AP_STATES = {
    "ala.": "AL", "ariz.": "AZ", "ark.": "AR", "calif.": "CA", "colo.": "CO", "conn.": "CT", "del.": "DE",
    "fla.": "FL", "ga.": "GA", "ill.": "IL", "ind.": "IN", "kan.": "KS", "ky.": "KY", "la.": "LA", "md.": "MD",
    "mass.": "MA", "mich.": "MI", "minn.": "MN", "miss.": "MS", "mo.": "MO", "mont.": "MT", "neb.": "NE",
    "nev.": "NV", "n.h.": "NH", "n.j.": "NJ", "n.m.": "NM", "n.y.": "NY", "n.c.": "NC", "n.d.": "ND",
    "okla.": "OK", "ore.": "OR", "pa.": "PA", "r.i.": "RI", "s.c.": "SC", "s.d.": "SD", "tenn.": "TN",
    "vt.": "VT", "va.": "VA", "wash.": "WA", "w.va.": "WV", "wis.": "WI", "wyo.": "WY", "d.c.": "DC",
}  # fmt: skip
_US_STATE_NAMES = frozenset(US_STATES)

#: Large US cities (and a few metro names people write) → state code.
US_CITIES: dict[str, str] = {
    "new york city": "NY", "new york": "NY", "nyc": "NY", "brooklyn": "NY", "manhattan": "NY", "buffalo": "NY",
    "rochester": "NY", "albany": "NY", "los angeles": "CA", "san francisco": "CA", "san diego": "CA",
    "san jose": "CA", "oakland": "CA", "sacramento": "CA", "fresno": "CA", "long beach": "CA", "irvine": "CA",
    "palo alto": "CA", "mountain view": "CA", "menlo park": "CA", "sunnyvale": "CA", "santa clara": "CA",
    "cupertino": "CA", "berkeley": "CA", "pasadena": "CA", "santa monica": "CA", "anaheim": "CA",
    "riverside": "CA", "bakersfield": "CA", "chicago": "IL", "springfield": "IL", "naperville": "IL",
    "houston": "TX", "dallas": "TX", "austin": "TX", "san antonio": "TX", "fort worth": "TX", "el paso": "TX",
    "irving": "TX", "plano": "TX", "arlington": "TX", "phoenix": "AZ", "tucson": "AZ", "scottsdale": "AZ",
    "mesa": "AZ", "tempe": "AZ", "philadelphia": "PA", "pittsburgh": "PA", "harrisburg": "PA",
    "jacksonville": "FL", "miami": "FL", "tampa": "FL", "orlando": "FL", "tallahassee": "FL",
    "fort lauderdale": "FL", "st. petersburg": "FL", "columbus": "OH", "cleveland": "OH", "cincinnati": "OH",
    "toledo": "OH", "akron": "OH", "dayton": "OH", "charlotte": "NC", "raleigh": "NC", "durham": "NC",
    "greensboro": "NC", "fayetteville": "NC", "indianapolis": "IN", "seattle": "WA", "spokane": "WA",
    "tacoma": "WA", "bellevue": "WA", "redmond": "WA", "denver": "CO", "boulder": "CO", "colorado springs": "CO",
    "boston": "MA", "cambridge": "MA", "worcester": "MA", "nashville": "TN", "memphis": "TN", "knoxville": "TN",
    "chattanooga": "TN", "clarksville": "TN", "detroit": "MI", "ann arbor": "MI", "grand rapids": "MI",
    "lansing": "MI", "novi": "MI", "portland": "OR", "eugene": "OR", "salem": "OR", "las vegas": "NV",
    "reno": "NV", "henderson": "NV", "louisville": "KY", "lexington": "KY", "baltimore": "MD",
    "bethesda": "MD", "milwaukee": "WI", "madison": "WI", "albuquerque": "NM", "santa fe": "NM",
    "oklahoma city": "OK", "tulsa": "OK", "kansas city": "MO", "st. louis": "MO", "saint louis": "MO",
    "omaha": "NE", "lincoln": "NE", "atlanta": "GA", "savannah": "GA", "augusta": "GA", "minneapolis": "MN",
    "st. paul": "MN", "saint paul": "MN", "new orleans": "LA", "baton rouge": "LA", "wichita": "KS",
    "cleveland heights": "OH", "honolulu": "HI", "anchorage": "AK", "salt lake city": "UT", "provo": "UT",
    "boise": "ID", "birmingham": "AL", "montgomery": "AL", "huntsville": "AL", "mobile": "AL",
    "little rock": "AR", "des moines": "IA", "hartford": "CT", "new haven": "CT", "stamford": "CT",
    "greenwich": "CT", "bethel": "CT", "providence": "RI", "newark": "NJ", "jersey city": "NJ",
    "princeton": "NJ", "trenton": "NJ", "hoboken": "NJ", "richmond": "VA", "virginia beach": "VA",
    "norfolk": "VA", "alexandria": "VA", "charleston": "SC", "columbia": "SC", "greenville": "SC",
    "burlington": "VT", "manchester": "NH", "portland maine": "ME", "wilmington": "DE", "fargo": "ND",
    "sioux falls": "SD", "billings": "MT", "cheyenne": "WY", "jackson": "MS", "morristown": "NJ",
    "washington, d.c.": "DC", "washington dc": "DC", "silicon valley": "CA", "bay area": "CA",
    "morgantown": "WV", "bonita springs": "FL", "kitchener": "", "toronto": "", "london": "", "paris": "",
    "berlin": "", "vancouver": "", "montreal": "", "stockholm": "", "tokyo": "", "singapore": "",
    "bangalore": "", "bengaluru": "", "mumbai": "", "sydney": "", "dublin": "", "amsterdam": "",
}  # fmt: skip
_CITY_FIRST_WORDS = frozenset(name.split()[0] for name in US_CITIES)


def _title_case_alternation(names: Sequence[str]) -> str:
    """Places are written capitalized: matching their Title Case forms only (no IGNORECASE) is much faster."""
    forms = {name.title() for name in names} | {name.upper() for name in names if len(name) <= 3}
    forms |= {f.replace("Of ", "of ").replace("D.C.", "D.C.") for f in forms}
    return "|".join(re.escape(f).replace(r"\ ", r"\s+") for f in sorted(forms, key=len, reverse=True))


_CITY_RE = re.compile(r"\b(?:" + _title_case_alternation(list(US_CITIES)) + r")\b")
_STATE_RE = re.compile(r"\b(?:" + _title_case_alternation(list(US_STATES)) + r")\b")
_CITY_STATE_RE = re.compile(
    r"\b(?P<city>[A-Z][a-z]+(?:[ .-][A-Z][a-z]+){0,2}),\s+(?P<state>" + "|".join(
        re.escape(s.title()).replace(r"\ ", r"\s+") for s in sorted(US_STATES, key=len, reverse=True))
    + "|" + "|".join(re.escape(a.capitalize() if a[1] != "." else a.upper()) for a in _AP_STATES)
    + r"|(?:" + "|".join(_STATE_BY_CODE) + r")(?![a-z]))")


def extract_locations(text: str) -> list[str]:
    """US places named in the text, normalized ("Springfield, IL", "Seattle, WA", "Texas") plus a few major
    cities abroad, in order of appearance."""
    found: list[tuple[int, str]] = []
    taken: list[tuple[int, int]] = []

    def add(start: int, end: int, value: str) -> None:
        if any(s < end and start < e for s, e in taken):
            return
        taken.append((start, end))
        found.append((start, value))

    for match in _CITY_STATE_RE.finditer(text):
        state = match.group("state")
        code = US_STATES.get(" ".join(state.lower().split())) or _AP_STATES.get(state.lower()) or (
            state if state in _STATE_BY_CODE else None)
        if code is None:
            continue
        add(match.start(), match.end(), f"{match.group('city')}, {code}")
    for match in _CITY_RE.finditer(text):
        name = match.group()
        if not name[0].isupper() or (len(name) > 3 and name.isupper()):
            continue
        code = US_CITIES[" ".join(name.lower().split())]
        add(match.start(), match.end(), f"{name}, {code}" if code else name)
    for match in _STATE_RE.finditer(text):
        name = match.group()
        if not name[0].isupper() or (len(name) > 2 and name.isupper()) or (
                name.lower() == "washington" and not _state_context(text, match.start())):
            continue  # "CENTRAL ILLINOIS PUBLIC SERVICE Co." names a company, not a place
        add(match.start(), match.end(), " ".join(name.split()))
    found.sort()
    seen: set[str] = set()
    result = []
    for _, value in found:
        if value not in seen:
            seen.add(value)
            result.append(value)
    return result


def _state_context(text: str, start: int) -> bool:
    return text[max(0, start - 12):start].lower().rstrip().endswith(("in", "of", ",", "state"))


# --------------------------------------------------------------------------------------------------
# People
# --------------------------------------------------------------------------------------------------

_PERSON_HONORIFIC = re.compile(
    r"\b(?:Mr|Mrs|Ms|Dr|Prof|Professor|Sir|Dame|Judge|Justice)\.?\s+(?P<name>[A-Z][\w'-]+(?:\s+(?:[A-Z]\.|[A-Z][\w'-]+))"
    r"{0,3})")
_PERSON_INITIAL = re.compile(r"\b(?P<name>[A-Z][a-z][\w'-]+\s+(?:[A-Z]\.\s*){1,2}[A-Z][a-z][\w'-]+(?:,?\s+(?:Jr|Sr)\.?|"
                             r"\s+I{2,3})?)")
_CAPS_RUN = re.compile(r"\b[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?(?:\s+[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?)+\b")
_CAP_WORD = re.compile(r"[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?")


@lru_cache(maxsize=1)
def _given_names() -> frozenset[str]:
    from upswing.core.nicknames import NICKNAMES

    names = set(NICKNAMES)
    for short in NICKNAMES.values():
        names.update(short)
    names.update(_wordset("""
    james john robert michael william david richard joseph thomas charles mary patricia jennifer linda elizabeth
    barbara susan jessica sarah karen nancy lisa betty sandra ashley emily donna michelle carol amanda melissa
    deborah stephanie rebecca laura sharon cynthia kathleen amy angela anna brenda emma olivia sophia ava mia
    priya rahul wei li ming jun ahmed mohammed fatima aisha omar ali maria jose juan carlos luis ana sofia
    kenneth steven brian kevin jason jeffrey ryan gary eric jacob nicholas jonathan larry justin scott frank
    brandon raymond gregory samuel benjamin patrick jack dennis jerry tyler aaron henry adam douglas nathan
    peter zachary kyle noah ethan jeremy walter christian keith roger terry austin sean gerald carl harold
    dylan arthur lawrence jordan jesse bryan billy bruce gabriel joe logan alan juan wayne roy ralph randy
    eugene vincent russell louis bobby philip johnny jane alice grace julia chloe hannah natalie megan rachel
    helen diane ruth julie joyce virginia victoria kelly lauren christina joan evelyn judith andrea cheryl
    katherine heather teresa doris gloria martha ann jean kathryn alexis marie frances kayla rose janet
    catherine samantha debra abigail madison denise amber danielle marilyn beverly charlotte theresa
    diana brittany natalia isabella lily zoe ella leah nora felicia jennifer allen clark lowell frederic
    russell jeffrey charles sean allen gary stephen
    """))
    return frozenset(names)


_NOT_NAME_WORDS = TITLE_WORDS | FUNCTION_WORDS | ORG_SUFFIXES | _wordset(
    "the a an i my our we he she it this that today new university college school institute company group "
    "award prize fellow hall fame board january february march april may june july august september october "
    "november december monday tuesday wednesday thursday friday saturday sunday")


def extract_people(text: str) -> list[str]:
    """People named in the text (honorific + name, "First M. Last", or a known given name + surname)."""
    clean = text.translate(_QUOTES)
    spans: list[tuple[int, int, str]] = []

    def add(start: int, end: int, name: str) -> None:
        name = " ".join(name.split()).rstrip(",")
        words = [w.lower().strip(".,'") for w in name.split()]
        if not words or any(w in _NOT_NAME_WORDS for w in words) or words[-1] in US_STATES:
            return
        if any(s < end and start < e for s, e, _ in spans):
            return
        spans.append((start, end, name))

    for match in _PERSON_HONORIFIC.finditer(clean):
        add(match.start("name"), match.end("name"), match.group("name"))
    for match in _PERSON_INITIAL.finditer(clean):
        add(match.start("name"), match.end("name"), match.group("name"))
    given = _given_names()
    for run in _CAPS_RUN.finditer(clean):  # "Thanks Jane Doe": the name starts at the given name
        words = list(_CAP_WORD.finditer(run.group()))
        for i, word in enumerate(words[:-1]):
            if word.group().lower().split("-")[0] in given and word.group().lower() not in _NOT_NAME_WORDS:
                last = words[min(i + 2, len(words) - 1)]
                if i + 2 < len(words) and words[i + 2].group().lower() in _NOT_NAME_WORDS:
                    last = words[i + 1]
                add(run.start() + word.start(), run.start() + last.end(),
                    run.group()[word.start():last.end()])
                break
    spans.sort()
    result: list[str] = []
    for _, _, name in spans:
        if name not in result:
            result.append(name)
    return result


# --------------------------------------------------------------------------------------------------
# Everything at once
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Extraction:
    title: str | None = None
    organization: str | None = None
    credential: str | None = None
    issuer: str | None = None
    people: tuple[str, ...] = ()
    dates: tuple[DateMention, ...] = ()
    locations: tuple[str, ...] = ()
    effective_date: date | None = None
    extra: dict[str, str] = field(default_factory=dict)


def extract(text: str, label: str, *, reference_date: date | None = None,
            evidence: tuple[int, int] | None = None) -> Extraction:
    """Everything the extractors find in ``text`` for an event of type ``label``; title and organization
    only for a new job, a promotion or a business launch, credential and issuer only for certifications,
    licenses, awards and education."""
    role = extract_role(text, label) if label in ROLE_LABELS else Role(None, None)
    credential = extract_credential(text, label) if label in CREDENTIAL_LABELS else None
    dates = tuple(extract_dates(text, reference_date))
    return Extraction(
        title=role.title, organization=role.organization,
        credential=credential.name if credential else None, issuer=credential.issuer if credential else None,
        people=tuple(extract_people(text)), dates=dates, locations=tuple(extract_locations(text)),
        effective_date=effective_date(dates, near=evidence),
    )
