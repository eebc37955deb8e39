"""The second spec's lead statuses (``new, qualified, contacted, converted, lost``) on Upswing's
(``new, contacted, promise, paying, resolved, lost``; docs/second-spec.md). The map itself lives with the lead
(``lead.models.SECOND_SPEC_STATUSES``: the lead list takes ``?status=qualified`` too); this is the way back.
"""

from __future__ import annotations

from upswing.lead.models import SECOND_SPEC_STATUSES, LeadStatus, lead_statuses

#: Every status name a compatible route accepts: Upswing's and the second spec's.
STATUS_NAMES = frozenset({*(s.value for s in LeadStatus), *SECOND_SPEC_STATUSES})


def upswing_statuses(name: str) -> tuple[LeadStatus, ...]:
    """The Upswing statuses a status name (ours or the second spec's) stands for; ours stand for themselves."""
    return lead_statuses(name.strip().lower())


def second_spec_status(status: str, *, review_state: str | None = None) -> str:
    """Upswing's status (and a prospect's review) in the second spec's words."""
    if status in (LeadStatus.PROMISE, LeadStatus.PAYING, LeadStatus.RESOLVED):
        return "converted"
    if status == LeadStatus.NEW and review_state == "approved":
        return "qualified"
    return status if status in ("new", "contacted", "lost") else "new"
