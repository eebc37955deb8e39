"""Text observations (posts, news items, press releases, page texts): the items, their normalized form,
content hash and subject. Storing, linking and classifying them is ``pipeline.texts.ingest_texts``.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import orjson
from pydantic import ValidationError as PydanticValidationError

from upswing.core.errors import ValidationFailedError
from upswing.core.identifiers import normalize_linkedin_url
from upswing.core.logging import get_logger
from upswing.core.names import company_key
from upswing.core.timeparse import parse_timestamp
from upswing.observation.schemas import TextItemIn

log = get_logger(__name__)
TEXT_FILE_SOURCE = "text-file"


@dataclass(frozen=True)
class TextItem:
    text: str
    raw: dict[str, Any]  # what the source sent, kept as the observation's raw payload
    about: Literal["person", "company"] = "person"
    url: str | None = None
    title: str | None = None  # headline of a news item or page
    published_at: datetime | None = None
    lead_id: uuid.UUID | None = None  # when the source already knows whose text it is
    author_public_id: str | None = None  # LinkedIn public id of the author, for linking
    author_name: str | None = None
    company_name: str | None = None  # for company texts: whose leads it concerns
    company_domain: str | None = None


@dataclass
class TextIngestReport:
    stored: int = 0
    duplicates: int = 0
    linked: int = 0
    unlinked: int = 0
    signals_created: int = 0
    signals_updated: int = 0
    observation_ids: list[uuid.UUID] = field(default_factory=list)
    #: Texts classified, and how many of them said something (a label other than none, above the threshold).
    classified: int = 0
    detected: int = 0
    #: Texts whose top guess was an event below its type's confidence threshold (the low-confidence list).
    below_threshold: int = 0
    #: Texts by a person erased on request: never stored (privacy tombstones).
    suppressed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"stored": self.stored, "duplicates": self.duplicates, "linked": self.linked,
                "unlinked": self.unlinked, "classified": self.classified, "detected": self.detected,
                "below_threshold": self.below_threshold, "signals_created": self.signals_created,
                "signals_updated": self.signals_updated, "suppressed": self.suppressed}


def normalized_payload(item: TextItem) -> dict[str, Any]:
    """The observation's normalized form; its hash decides whether two sightings are the same text."""
    return {
        "text": " ".join(item.text.split()), "title": " ".join(item.title.split()) if item.title else None,
        "url": item.url, "published_at": item.published_at.isoformat() if item.published_at else None,
        "about": item.about, "author_name": item.author_name, "author_public_id": item.author_public_id,
        "company_name": item.company_name, "company_domain": normalize_domain(item.company_domain),
    }


def content_hash(normalized: dict[str, Any]) -> str:
    return hashlib.sha256(b"text:" + orjson.dumps(normalized, option=orjson.OPT_SORT_KEYS)).hexdigest()


def normalize_domain(value: str | None) -> str | None:
    """``https://www.Acme.com/about`` → ``acme.com``."""
    if not value or not value.strip():
        return None
    host = value.strip().lower()
    for prefix in ("https://", "http://"):
        host = host.removeprefix(prefix)
    host = host.split("/", 1)[0].split("?", 1)[0].split(":", 1)[0]
    return host.removeprefix("www.") or None


def classified_text(normalized: dict[str, Any]) -> str:
    """What the classifier reads: the headline (when there is one) and the text."""
    text = normalized["text"]
    title = normalized.get("title")
    if title and not text.startswith(title):
        return f"{title}. {text}" if title[-1] not in ".!?" else f"{title} {text}"
    return str(text)


def subject_key_for(normalized: dict[str, Any]) -> str | None:
    """Who the text is by (``li:<public id>``) or about (``company:<domain>``). A text the source assigned to a
    lead gets none: its author may be someone else (a colleague congratulating the lead), and the resolver
    treats a subject linked once as that lead's for good."""
    if normalized.get("about") == "company":
        key = normalized.get("company_domain") or company_key(normalized.get("company_name"))
        return f"company:{key}" if key else None
    public_id = normalized.get("author_public_id")
    return f"li:{public_id}" if public_id else None


def text_item(data: TextItemIn, raw: dict[str, Any] | None = None) -> TextItem:
    """A validated input item as a ``TextItem`` (``raw``: what was sent, default the item itself)."""
    return TextItem(text=data.text, raw=raw if raw is not None else data.model_dump(mode="json"), about=data.about,
                    url=data.url, title=data.title, published_at=data.published_at, lead_id=data.lead_id,
                    author_public_id=data.author_public_id, author_name=data.author_name,
                    company_name=data.company_name, company_domain=data.company_domain)


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _post_author_public_id(raw: dict[str, Any], author: dict[str, Any]) -> str | None:
    for value in (raw.get("authorPublicIdentifier"), author.get("publicIdentifier")):
        if (text := _text(value)) is not None:
            return text.casefold()
    for value in (raw.get("authorProfileUrl"), raw.get("authorUrl"), author.get("linkedinUrl")):
        parsed = normalize_linkedin_url(value) if isinstance(value, str) else None
        if parsed is not None:
            return parsed[1]
    return None


def _post_published_at(raw: dict[str, Any]) -> datetime | None:
    posted = raw.get("postedAt")
    if isinstance(posted, dict):
        return parse_timestamp(posted.get("timestamp")) or parse_timestamp(posted.get("date"))
    return parse_timestamp(posted)


def from_posts_actor(raw: dict[str, Any]) -> dict[str, Any]:
    """A LinkedIn posts Actor item (``harvestapi/linkedin-profile-posts``: the post under ``content``, its URL
    under ``linkedinUrl`` or ``socialContent.shareUrl``, ``postedAt{timestamp, date}``, the author under
    ``authorName``/``authorPublicIdentifier`` or ``author{}``) with the text item's fields filled in from
    those; fields the item already has win. Any other item is returned as it is."""
    if "text" in raw or _text(raw.get("content")) is None:
        return raw
    author: dict[str, Any] = raw["author"] if isinstance(raw.get("author"), dict) else {}
    social: dict[str, Any] = raw["socialContent"] if isinstance(raw.get("socialContent"), dict) else {}
    author_name = _text(raw.get("authorName")) or _text(author.get("name"))
    mapped: dict[str, Any] = {
        "text": raw["content"],
        "url": _text(raw.get("linkedinUrl")) or _text(social.get("shareUrl")),
        "published_at": _post_published_at(raw),
        "author_public_id": _post_author_public_id(raw, author),
        "author_name": author_name,
    }
    if str(raw.get("authorType", "")).casefold() == "company":
        # A company page's post speaks about the company: its intents land on the leads who work there.
        mapped.update(about="company", company_name=author_name, author_public_id=None)
    given = {key: value for key, value in raw.items() if value is not None}
    return {**{key: value for key, value in mapped.items() if value is not None}, **given}


def parse_text_items(numbered: Iterable[tuple[int, dict[str, Any]]]) -> list[TextItem]:
    """Validate raw items (number, object); raises ``ValidationFailedError`` naming every bad item's number
    and field, so a bad file stores nothing. Items of a LinkedIn posts Actor export are read too
    (:func:`from_posts_actor`); the raw item is kept as it came."""
    items: list[TextItem] = []
    errors: list[dict[str, Any]] = []
    for number, raw in numbered:
        try:
            items.append(text_item(TextItemIn.model_validate(from_posts_actor(raw)), raw))
        except PydanticValidationError as exc:
            for error in exc.errors():
                field = ".".join(str(part) for part in error["loc"]) or None
                errors.append({"row": number, "field": field, "message": error["msg"]})
    if errors:
        raise ValidationFailedError(f"{len({e['row'] for e in errors})} item(s) are not valid texts; "
                                    "nothing was ingested", errors)
    return items


def merge_reports(total: TextIngestReport, part: TextIngestReport) -> None:
    """Add ``part``'s counts to ``total`` (a file ingested in chunks)."""
    for name in ("stored", "duplicates", "linked", "unlinked", "signals_created", "signals_updated", "classified",
                 "detected"):
        setattr(total, name, getattr(total, name) + getattr(part, name))
    total.observation_ids.extend(part.observation_ids)


