"""geo domain's routes (``/api/v1/local``): market analysis of an area and the map's aggregates, in the caller's
scope (docs/geo.md). The lead list's radius search is the lead list's ``near``/``radius_km``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from upswing.account.deps import AnyUser
from upswing.core.deps import DbSession
from upswing.geo import market

router = APIRouter(prefix="/api/v1/local", tags=["geo"])


@router.get("/market-analysis", response_model=market.MarketAnalysis, operation_id="local_market_analysis",
            responses={422: {"description": "Unknown place (location) or a bad radius_km / days"}})
def market_analysis(user: AnyUser, session: DbSession,
                    query: Annotated[market.MarketQuery, Query()]) -> Response:
    """Leads within radius_km of a place (City, ST; a ZIP; a state code; lat,lng), their signals by type, signal
    rate, average balance, conversion to payment, top employers and industries, in the caller's scope."""
    report = market.market_analysis(session, user, query)
    return Response(report.model_dump_json(by_alias=True), media_type="application/json")


@router.get("/map", response_model=market.LeadMap, operation_id="local_map")
def lead_map(user: AnyUser, session: DbSession, query: Annotated[market.MapQuery, Query()]) -> market.LeadMap:
    """Leads and signals per state or county (for a choropleth) and the busiest lead centroids (points), in the
    caller's scope: centroids of ZIP codes, cities or states, never an address."""
    return market.lead_map(session, user, query)
