"""HTTP endpoints of the audit domain (thin: the service holds the logic)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
