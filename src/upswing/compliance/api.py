"""HTTP endpoints of the compliance domain (thin: the service holds the logic)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/compliance", tags=["compliance"])
