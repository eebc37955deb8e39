"""Imports every model so that metadata (Alembic, tests) sees all tables."""

from upswing.account.models import Team, User
from upswing.audit.models import AuditEntry
from upswing.lead.models import Lead, Portfolio
from upswing.observation.models import Observation
from upswing.signal.models import Signal
from upswing.source.models import Source

__all__ = ["AuditEntry", "Lead", "Observation", "Portfolio", "Signal", "Source", "Team", "User"]
