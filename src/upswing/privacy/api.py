"""HTTP endpoints of the privacy domain (thin: the service holds the logic)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/privacy", tags=["privacy"])
