"""analytics domain: one JSON report and its CSV per figure, every one for every role, scoped by role
(docs/analytics.md). ``_report`` registers both routes of a report from the one function that builds it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from upswing.account.deps import AnyUser
from upswing.account.models import User
from upswing.analytics import coverage, recovery, service, sources
from upswing.analytics.schemas import (
    AnalyticsQuery,
    AnalyticsReport,
    BucketQuery,
    CoverageReport,
    FunnelReport,
    ModelQualityReport,
    OutcomesReport,
    RecoveryReport,
    ResponseTimesReport,
    SignalsReport,
    SourceHealthReport,
)
from upswing.core.deps import DbSession

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])

Q = TypeVar("Q", bound=AnalyticsQuery)
R = TypeVar("R", bound=AnalyticsReport)


class CSVResponse(Response):
    media_type = "text/csv"


_CSV: dict[int | str, dict[str, Any]] = {200: {"description": "The report's table as CSV (a download), every cell "
                                                             "neutralised against spreadsheet formulas",
                                              "content": {"text/csv": {"schema": {"type": "string"}}}}}


def _csv(name: str, report: AnalyticsReport) -> Response:
    return CSVResponse(content=service.to_csv(report), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{service.csv_filename(name, report)}"',
        "Cache-Control": "no-store"})


def _report(name: str, query_model: type[Q], report_model: type[R], build: Callable[[Session, User, Q], R],
            description: str) -> None:
    """``GET /<name>`` (the report, JSON) and ``GET /<name>.csv`` (its table), operation ids ``analytics_<name>``
    and ``analytics_<name>_csv``."""
    operation = "analytics_" + name.replace("-", "_")
    title = name.replace("-", " ").capitalize()

    def report(user: AnyUser, session: DbSession, query: Q) -> Response:
        # The report is a validated model already: serialized once here (a year of signals is ~10,000 rows, which
        # FastAPI would dump, validate again and encode), with the same JSON it would give.
        return Response(build(session, user, query).model_dump_json(by_alias=True), media_type="application/json")

    def download(user: AnyUser, session: DbSession, query: Q) -> Response:
        return _csv(name, build(session, user, query))

    for endpoint in (report, download):  # the query's model is known only now: FastAPI reads it from here
        endpoint.__annotations__["query"] = Annotated[query_model, Query()]
    router.add_api_route(f"/{name}", report, methods=["GET"], response_model=report_model, operation_id=operation,
                         summary=title, description=description, name=operation)
    router.add_api_route(f"/{name}.csv", download, methods=["GET"], response_class=CSVResponse, responses=_CSV,
                         operation_id=f"{operation}_csv", summary=f"{title} (CSV)", name=f"{operation}_csv")


_report("signals", BucketQuery, SignalsReport, service.signals_report,
        "Signals detected per day or week, by type and by the source of their earliest evidence.")
_report("funnel", AnalyticsQuery, FunnelReport, service.funnel_report,
        "Per signal type: signals → acknowledged → actioned → promise to pay → payment, with rates.")
_report("response-times", AnalyticsQuery, ResponseTimesReport, service.response_times_report,
        "Median and p90 from detection to first action, per team and agent, by priority.")
_report("outcomes", AnalyticsQuery, OutcomesReport, service.outcomes_report,
        "Outcomes recorded on the signals detected in the range.")
_report("recovery", BucketQuery, RecoveryReport, recovery.recovery_report,
        "Payments, dollars recovered, leads paying and promises kept or broken per day or week; days from placement "
        "to first payment.")
_report("coverage", BucketQuery, CoverageReport, coverage.coverage_report,
        "Share of the leads monitored, and how long since a source last looked at each, per day or week.")
_report("source-health", AnalyticsQuery, SourceHealthReport, sources.source_health_report,
        "Every source: state, runs, errors, today's budget against its limit, observations stored in the range.")
_report("model-quality", AnalyticsQuery, ModelQualityReport, service.model_quality_report,
        "Feedback given in the range per detected type: confirmed against corrected.")
