"""analytics domain: one JSON report and its CSV per figure, every one for every role, scoped by role
(docs/analytics.md)."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from upswing.account.deps import AnyUser
from upswing.analytics import service
from upswing.analytics.schemas import (
    AnalyticsQuery,
    AnalyticsReport,
    FunnelReport,
    ModelQualityReport,
    OutcomesReport,
    ResponseTimesReport,
    SignalsQuery,
    SignalsReport,
)
from upswing.core.deps import DbSession

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])


class CSVResponse(Response):
    media_type = "text/csv"


_CSV: dict[int | str, dict[str, Any]] = {200: {"description": "The report's table as CSV (a download), every cell "
                                                             "neutralised against spreadsheet formulas",
                                              "content": {"text/csv": {"schema": {"type": "string"}}}}}


def _csv(name: str, report: AnalyticsReport) -> Response:
    return CSVResponse(content=service.to_csv(report), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{service.csv_filename(name, report)}"',
        "Cache-Control": "no-store"})


@router.get("/signals", response_model=SignalsReport, operation_id="analytics_signals")
def signals(user: AnyUser, session: DbSession, query: Annotated[SignalsQuery, Query()]) -> SignalsReport:
    """Signals detected per day or week, by type and by the source of their earliest evidence."""
    return service.signals_report(session, user, query)


@router.get("/signals.csv", response_class=CSVResponse, responses=_CSV, operation_id="analytics_signals_csv")
def signals_csv(user: AnyUser, session: DbSession, query: Annotated[SignalsQuery, Query()]) -> Response:
    return _csv("signals", service.signals_report(session, user, query))


@router.get("/funnel", response_model=FunnelReport, operation_id="analytics_funnel")
def funnel(user: AnyUser, session: DbSession, query: Annotated[AnalyticsQuery, Query()]) -> FunnelReport:
    """Per signal type: signals → acknowledged → actioned → promise to pay → payment, with rates."""
    return service.funnel_report(session, user, query)


@router.get("/funnel.csv", response_class=CSVResponse, responses=_CSV, operation_id="analytics_funnel_csv")
def funnel_csv(user: AnyUser, session: DbSession, query: Annotated[AnalyticsQuery, Query()]) -> Response:
    return _csv("funnel", service.funnel_report(session, user, query))


@router.get("/response-times", response_model=ResponseTimesReport, operation_id="analytics_response_times")
def response_times(user: AnyUser, session: DbSession,
                   query: Annotated[AnalyticsQuery, Query()]) -> ResponseTimesReport:
    """Median and p90 from detection to first action, per team and agent, by priority."""
    return service.response_times_report(session, user, query)


@router.get("/response-times.csv", response_class=CSVResponse, responses=_CSV,
            operation_id="analytics_response_times_csv")
def response_times_csv(user: AnyUser, session: DbSession, query: Annotated[AnalyticsQuery, Query()]) -> Response:
    return _csv("response-times", service.response_times_report(session, user, query))


@router.get("/outcomes", response_model=OutcomesReport, operation_id="analytics_outcomes")
def outcomes(user: AnyUser, session: DbSession, query: Annotated[AnalyticsQuery, Query()]) -> OutcomesReport:
    """Outcomes per type of the signals detected in the range (dollars recovered come with issue 18)."""
    return service.outcomes_report(session, user, query)


@router.get("/outcomes.csv", response_class=CSVResponse, responses=_CSV, operation_id="analytics_outcomes_csv")
def outcomes_csv(user: AnyUser, session: DbSession, query: Annotated[AnalyticsQuery, Query()]) -> Response:
    return _csv("outcomes", service.outcomes_report(session, user, query))


@router.get("/model-quality", response_model=ModelQualityReport, operation_id="analytics_model_quality")
def model_quality(user: AnyUser, session: DbSession,
                  query: Annotated[AnalyticsQuery, Query()]) -> ModelQualityReport:
    """Feedback given in the range per detected type: confirmed against corrected."""
    return service.model_quality_report(session, user, query)


@router.get("/model-quality.csv", response_class=CSVResponse, responses=_CSV,
            operation_id="analytics_model_quality_csv")
def model_quality_csv(user: AnyUser, session: DbSession, query: Annotated[AnalyticsQuery, Query()]) -> Response:
    return _csv("model-quality", service.model_quality_report(session, user, query))
