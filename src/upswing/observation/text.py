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
from upswing.core.logging import get_logger
from upswing.core.names import company_key
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
    #: Texts by a person erased on request: never stored (privacy tombstones).
    suppressed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"stored": self.stored, "duplicates": self.duplicates, "linked": self.linked,
                "unlinked": self.unlinked, "classified": self.classified, "detected": self.detected,
                "signals_created": self.signals_created, "signals_updated": self.signals_updated,
                "suppressed": self.suppressed}


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


def parse_text_items(numbered: Iterable[tuple[int, dict[str, Any]]]) -> list[TextItem]:
    """Validate raw items (number, object); raises ``ValidationFailedError`` naming every bad item's number
    and field, so a bad file stores nothing."""
    items: list[TextItem] = []
    errors: list[dict[str, Any]] = []
    for number, raw in numbered:
        try:
            items.append(text_item(TextItemIn.model_validate(raw), raw))
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


