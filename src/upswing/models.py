"""Imports every model so that metadata (Alembic, tests) sees all tables."""

from upswing.account.models import Team, User
from upswing.audit.models import AuditEntry
from upswing.lead.models import Lead, LeadMerge, Portfolio
from upswing.observation.models import Observation
from upswing.resolution.models import Match, NonMatch
from upswing.signal.models import Evidence, Signal
from upswing.source.models import Source

__all__ = ["AuditEntry", "Evidence", "Lead", "LeadMerge", "Match", "NonMatch", "Observation", "Portfolio", "Signal",
           "Source", "Team", "User"]
