from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Query, UploadFile

from upswing.account.deps import ManagerOrAdmin
from upswing.core.deps import AppSettings, DbSession
from upswing.core.pagination import OffsetQuery
from upswing.core.timeparse import parse_timestamp
from upswing.lead.api import UploadRoute, check_upload_size
from upswing.observation import service, text
from upswing.observation.apify import ActorShape
from upswing.observation.reader import open_items
from upswing.observation.schemas import (
    IngestReport,
    ObservationPage,
    ObservationRead,
    TextIngestRequest,
    TextIngestResult,
)
from upswing.pipeline import texts
from upswing.pipeline.profiles import ProfileIngest
from upswing.source.service import file_source

router = APIRouter(prefix="/api/v1", tags=["observations"], route_class=UploadRoute)
_COPY_CHUNK = 1024 * 1024


@router.get("/observations/unlinked", response_model=ObservationPage, operation_id="observations_unlinked")
def unlinked(_: ManagerOrAdmin, session: DbSession, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
             offset: OffsetQuery = 0) -> ObservationPage:
    rows, total = service.list_unlinked(session, limit=limit, offset=offset)
    return ObservationPage(items=[ObservationRead.model_validate(r) for r in rows], total=total,
                           limit=limit, offset=offset)


@router.post("/ingest/apify", response_model=IngestReport, operation_id="ingest_apify")
def ingest_apify(user: ManagerOrAdmin, session: DbSession, settings: AppSettings,
                 file: Annotated[UploadFile, File(description="Apify dataset export: JSON array or JSONL")],
                 actor: Annotated[str, Form()] = "auto",
                 observed_at: Annotated[str | None, Form()] = None) -> IngestReport:
    if actor != "auto" and actor not in {shape.value for shape in ActorShape}:
        raise HTTPException(422, f"actor must be auto or one of {', '.join(s.value for s in ActorShape)}")
    shape = None if actor == "auto" else ActorShape(actor)
    when = parse_timestamp(observed_at) if observed_at else None
    if observed_at and when is None:
        raise HTTPException(422, f"observed_at is not an ISO 8601 timestamp: {observed_at!r}")
    check_upload_size(file, settings)  # the router's UploadRoute refused a larger body as it arrived
    with tempfile.TemporaryDirectory() as tmp:
        # The reader takes a path named like the upload: copied from where the form parser spooled it, in chunks.
        path = Path(tmp) / (Path(file.filename or "upload.json").name or "upload.json")
        with path.open("wb") as handle:
            shutil.copyfileobj(file.file, handle, _COPY_CHUNK)
        _, items = open_items(path)  # an empty or unreadable upload is refused (422) before anything is stored
        run = ProfileIngest(session, file_source(session), shape=shape, observed_at=when,
                                    lookback_days=settings.lookback_days)
        run.ingest(items)
    run.record_audit(actor=f"user:{user.username}", file=file.filename)
    session.commit()
    return run.report


@router.post("/ingest/texts", response_model=TextIngestResult, operation_id="ingest_texts")
def ingest_texts(user: ManagerOrAdmin, session: DbSession, body: TextIngestRequest) -> TextIngestResult:
    """Store texts (posts, news items, press releases), link them to leads, classify them and make signals."""
    items = [text.text_item(item, item.model_dump(mode="json", exclude_none=True)) for item in body.items]
    report = texts.ingest_texts(session, items, source_slug=body.source)
    texts.record_audit(session, report, actor=f"user:{user.username}", source_slug=body.source)
    session.commit()
    return TextIngestResult(source=body.source, **report.as_dict(), observation_ids=report.observation_ids)
