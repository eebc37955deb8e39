"""HTTP endpoints of the source domain (thin: the service holds the logic)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/sources", tags=["sources"])
