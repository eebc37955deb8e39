"""Loading the bundled demo: users, a portfolio of leads, dated profile exports in order, then recent posts
(dated relative to the load, see ``upswing.demo.posts``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from upswing.account import service as accounts
from upswing.account.models import Role, User
from upswing.account.schemas import UserCreate
from upswing.demo.posts import dated_posts
from upswing.lead import service as leads
from upswing.observation.models import Observation
from upswing.observation.reader import read_items
from upswing.observation.text import TextIngestReport
from upswing.pipeline.profiles import ProfileIngest
from upswing.pipeline.texts import ingest_texts
from upswing.pipeline.texts import record_audit as record_text_audit
from upswing.source.models import Source
from upswing.source.service import file_source

DATA_DIR = Path(__file__).resolve().parent / "data"
DEMO_PASSWORD = "upswing-demo"  # noqa: S105 - printed to the person running the demo, development only
DEMO_PORTFOLIO = "Second Chance 2026"
#: The source the demo posts are stored under; they are loaded last, so having them means the demo is loaded.
DEMO_POSTS_SOURCE = "demo-posts"
DEMO_USERS: list[tuple[str, Role, str | None, str]] = [
    ("admin", Role.ADMIN, None, "Avery Admin"),
    ("manager", Role.MANAGER, "Recovery East", "Morgan Manager"),
    ("agent.alvarez", Role.AGENT, "Recovery East", "Luis Alvarez"),
    ("agent.chen", Role.AGENT, "Recovery East", "Grace Chen"),
    ("agent.okafor", Role.AGENT, "Recovery West", "Chidi Okafor"),
    ("viewer", Role.VIEWER, None, "Val Viewer"),
]
_EXPORT_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")


@dataclass
class DemoReport:
    users_created: list[str] = field(default_factory=list)
    leads_created: int = 0
    exports: list[tuple[str, int, int]] = field(default_factory=list)  # file, observations, signals


def export_files(data_dir: Path = DATA_DIR) -> list[Path]:
    """The bundled exports, oldest first (the date is in each file name)."""
    files = [p for p in data_dir.iterdir() if p.name.startswith("apify-") and p.suffix in (".json", ".jsonl")]

    def when(path: Path) -> str:
        match = _EXPORT_DATE.search(path.name)
        return match.group(1) if match else path.name

    return sorted(files, key=lambda p: (when(p), p.name))


def ensure_users(session: Session, *, actor: str) -> list[str]:
    created = []
    for username, role, team, full_name in DEMO_USERS:
        if session.scalar(select(User.id).where(User.username == username)) is None:
            accounts.create_user(session, UserCreate(username=username, password=DEMO_PASSWORD, role=role,
                                                     team=team, full_name=full_name), actor=actor)
            created.append(username)
    return created


def load_leads(session: Session, *, actor: str, data_dir: Path = DATA_DIR) -> int:
    report = leads.import_leads(session, data_dir / "leads.csv", portfolio_name=DEMO_PORTFOLIO, actor=actor)
    return report.created


def load_export(session: Session, path: Path, *, actor: str, lookback_days: int,
                progress: Callable[[int], None] | None = None,
                items: Iterable[tuple[int, dict[str, Any]]] | None = None) -> tuple[int, int]:
    run = ProfileIngest(session, file_source(session), lookback_days=lookback_days,
                                     progress=progress)
    report = run.ingest(items if items is not None else read_items(path))
    run.record_audit(actor=actor, file=path.name)
    return report.observations_created, report.signals_created


def load_posts(session: Session, *, actor: str, loaded_at: datetime) -> TextIngestReport:
    """Store the demo posts, published in the days before ``loaded_at``; classified, they give recent signals."""
    report = ingest_texts(session, dated_posts(loaded_at), source_slug=DEMO_POSTS_SOURCE, observed_at=loaded_at)
    record_text_audit(session, report, actor=actor, source_slug=DEMO_POSTS_SOURCE)
    return report


def is_loaded(session: Session) -> bool:
    """Whether this database already holds the whole demo (its last step, the posts, is there)."""
    return session.scalar(
        select(Observation.id).join(Source, Source.id == Observation.source_id)
        .where(Source.slug == DEMO_POSTS_SOURCE).limit(1)) is not None
