"""Cleaning scraped markdown down to the prose of an About page, trimmed to a length: pure functions."""

from __future__ import annotations

import re

_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_REFERENCE_LINK = re.compile(r"^\s*\[[^\]]+\]:\s*\S+.*$", re.MULTILINE)
_BARE_URL = re.compile(r"^\s*<?https?://\S+>?\s*$", re.MULTILINE)
_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_BLANKS = re.compile(r"\n{3,}")
_SPACES = re.compile(r"[ \t]+")
_SENTENCE_END = re.compile(r"[.!?…][\"')\]]?\s")

# Lines that are page furniture, not the company's story.
_BOILERPLATE = re.compile(
    r"^(skip to (main )?content|menu|search|log ?in|sign (in|up)|cookie|accept( all)?( cookies)?|"
    r"privacy policy|terms( of (use|service))?|©|copyright|all rights reserved|follow us|share( this)?|"
    r"back to top|subscribe)(?=\W|$)", re.IGNORECASE)


def clean_markdown(markdown: str) -> str:
    """Drop images, link targets, HTML, navigation and footer lines; keep headings and prose."""
    text = _IMAGE.sub("", markdown)
    text = _LINK.sub(r"\1", text)
    text = _REFERENCE_LINK.sub("", text)
    text = _BARE_URL.sub("", text)
    text = _HTML_TAG.sub("", text)
    kept: list[str] = []
    seen: set[str] = set()
    for raw_line in text.splitlines():
        line = _SPACES.sub(" ", raw_line).strip()
        bare = line.lstrip("#*->|_ ").strip()
        if not bare:
            kept.append("")
            continue
        if _BOILERPLATE.match(bare) or _is_menu_item(line, bare):
            continue
        key = bare.casefold()
        if key in seen:  # menus and footers repeat; the story does not
            continue
        seen.add(key)
        kept.append(line)
    return _BLANKS.sub("\n\n", "\n".join(kept)).strip()


def _is_menu_item(line: str, bare: str) -> bool:
    """A short list item without sentence punctuation is a menu entry ("- Products", "* Careers")."""
    return line[:1] in "-*+|" and len(bare.split()) <= 3 and not bare.endswith((".", "!", "?", ":"))


def trim(text: str, max_chars: int) -> str:
    """At most ``max_chars``: cut at the last paragraph, else sentence, else word boundary (with "…")."""
    if len(text) <= max_chars:
        return text
    window = text[:max_chars]
    paragraph = window.rfind("\n\n")
    if paragraph >= max_chars // 2:
        return window[:paragraph].rstrip()
    sentences = list(_SENTENCE_END.finditer(window))
    if sentences and sentences[-1].end() >= max_chars // 2:
        return window[: sentences[-1].end()].rstrip()
    space = window.rfind(" ", 0, max_chars - 1)
    return (window[:space] if space > 0 else window[: max_chars - 1]).rstrip() + "…"
