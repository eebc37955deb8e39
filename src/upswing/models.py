"""Imports every model so that metadata (Alembic, tests) sees all tables."""

from upswing.account.models import AuthSession, LoginThrottle, RefreshToken, Team, User
from upswing.alert.models import (
    Alert,
    AlertDelivery,
    AlertRule,
    AlertSendCount,
    AlertSignal,
    AlertSuppression,
    TeamRotation,
    WebhookSubscription,
)
from upswing.analytics.models import (
    AgentSignalDaily,
    CoverageDaily,
    RecoveryDaily,
    ResponseDaily,
    RollupCursor,
    RollupDay,
    SignalDaily,
    SourceDaily,
)
from upswing.audit.models import AuditEntry
from upswing.compliance.models import (
    BlockedWindowRow,
    ComplianceSetting,
    ContactAttempt,
    ContactConsent,
    LeadComplianceFlag,
    Suppression,
)
from upswing.core.idempotency import IdempotencyRecord
from upswing.core.outbox import OutboxEvent, OutboxReceipt
from upswing.core.tasks import TaskRun
from upswing.crm.models import CrmConflict, CrmConnection, CrmInboundEvent, CrmLink, CrmPush
from upswing.digest.models import Digest, DigestPreference
from upswing.discovery.models import DiscoveryRun, Prospect
from upswing.escalation.models import BusinessCalendar, Escalation, EscalationPolicy, Holiday
from upswing.experiment.models import Assignment, Experiment
from upswing.lead.models import Lead, LeadMerge, Portfolio
from upswing.matching.models import ServiceMatch
from upswing.notify.models import EmailSuppression
from upswing.notify.stream import StreamEvent
from upswing.observation.models import Observation
from upswing.outcome.models import Outcome
from upswing.privacy.models import DataSubjectRequest, ErasureTombstone
from upswing.resolution.models import Match, NonMatch
from upswing.service_catalog.models import Service
from upswing.signal.models import Evidence, LabelledExample, Signal
from upswing.source.models import BudgetUsage, LeadSchedule, Source
from upswing.tracking.models import TrackingDailyCount, TrackingEvent, TrackingSite, TrackingVisitor

__all__ = [
    "AgentSignalDaily",
    "Alert",
    "AlertDelivery",
    "AlertRule",
    "AlertSendCount",
    "AlertSignal",
    "AlertSuppression",
    "Assignment",
    "AuditEntry",
    "AuthSession",
    "BlockedWindowRow",
    "BudgetUsage",
    "BusinessCalendar",
    "ComplianceSetting",
    "ContactAttempt",
    "ContactConsent",
    "CoverageDaily",
    "CrmConflict",
    "CrmConnection",
    "CrmInboundEvent",
    "CrmLink",
    "CrmPush",
    "DataSubjectRequest",
    "Digest",
    "DigestPreference",
    "DiscoveryRun",
    "EmailSuppression",
    "ErasureTombstone",
    "Escalation",
    "EscalationPolicy",
    "Evidence",
    "Experiment",
    "Holiday",
    "IdempotencyRecord",
    "LabelledExample",
    "Lead",
    "LeadComplianceFlag",
    "LeadMerge",
    "LeadSchedule",
    "LoginThrottle",
    "Match",
    "NonMatch",
    "Observation",
    "OutboxEvent",
    "OutboxReceipt",
    "Outcome",
    "Portfolio",
    "Prospect",
    "RecoveryDaily",
    "RefreshToken",
    "ResponseDaily",
    "RollupCursor",
    "RollupDay",
    "Service",
    "ServiceMatch",
    "Signal",
    "SignalDaily",
    "Source",
    "SourceDaily",
    "StreamEvent",
    "Suppression",
    "TaskRun",
    "Team",
    "TeamRotation",
    "TrackingDailyCount",
    "TrackingEvent",
    "TrackingSite",
    "TrackingVisitor",
    "User",
    "WebhookSubscription",
]
