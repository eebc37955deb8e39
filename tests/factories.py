"""Factories for test data: one function per domain object, real rows through real code."""

from __future__ import annotations

import itertools
import re
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from upswing.account.models import Role, Team, User
from upswing.account.security import create_token, hash_password
from upswing.detection.events import CandidateEvent, SignalType
from upswing.lead.models import Lead, Portfolio
from upswing.observation.models import Observation
from upswing.settings import Settings
from upswing.signal.models import Evidence
from upswing.signal.service import SightedEvent, upsert_events
from upswing.source.service import file_source

_counter = itertools.count(1)
# One precomputed argon2 hash keeps the role-matrix tests fast; login tests hash for real.
_PASSWORD_HASH: str | None = None
PASSWORD = "correct horse battery"


def password_hash() -> str:
    global _PASSWORD_HASH
    if _PASSWORD_HASH is None:
        _PASSWORD_HASH = hash_password(PASSWORD)
    return _PASSWORD_HASH


def make_team(session: Session, name: str | None = None) -> Team:
    team = Team(name=name or f"team-{next(_counter)}")
    session.add(team)
    session.flush()
    return team


def make_user(session: Session, role: Role = Role.AGENT, *, team: Team | None = None,
              username: str | None = None) -> User:
    user = User(username=username or f"{role.value}-{next(_counter)}", password_hash=password_hash(),
                role=role.value, team_id=team.id if team else None)
    session.add(user)
    session.flush()
    return user


def make_portfolio(session: Session, name: str | None = None) -> Portfolio:
    portfolio = Portfolio(name=name or f"portfolio-{next(_counter)}")
    session.add(portfolio)
    session.flush()
    return portfolio


def make_lead(session: Session, portfolio: Portfolio | None = None, **fields: Any) -> Lead:
    n = next(_counter)
    values: dict[str, Any] = {
        "external_id": f"L-{n:05d}", "first_name": "Jordan", "last_name": f"Rivera{n}",
        "email": f"jordan{n}@example.com", "emails": [f"jordan{n}@example.com"], "phones": [],
        "city": "Austin", "state": "TX", "country": "US", "balance": Decimal("12000.00"),
        "days_delinquent": 120,
    }
    values.update(fields)
    lead = Lead(portfolio_id=(portfolio or make_portfolio(session)).id, **values)
    session.add(lead)
    session.flush()
    return lead


def make_signal(session: Session, lead: Lead, type_: SignalType = SignalType.NEW_EMPLOYMENT,
                **fields: Any) -> uuid.UUID:
    event = CandidateEvent(type=type_, identity=fields.pop("identity", f"acme|analyst|{next(_counter)}"),
                           confidence=fields.pop("confidence", 0.95),
                           snippet=fields.pop("snippet", "Experience: Analyst at Acme (Mar 2026 – present)"),
                           title=fields.pop("title", "Analyst"), organization=fields.pop("organization", "Acme"),
                           effective_date=fields.pop("effective_date", date(2026, 3, 1)))
    observed_at = fields.pop("observed_at", datetime(2026, 11, 1, tzinfo=UTC))
    source = file_source(session)
    observation = Observation(source_id=source.id, lead_id=lead.id, kind="profile", raw={}, normalized={},
                              content_hash=uuid.uuid4().hex + uuid.uuid4().hex,
                              subject_key=fields.pop("subject_key", None),
                              observed_at=observed_at, last_observed_at=observed_at)
    session.add(observation)
    session.flush()
    upsert_events(session, [SightedEvent(lead.id, observation.id, lead.linkedin_url, event)])
    # The signal this sighting created or joined (same identity, or same employer/title and date).
    signal_id = session.scalar(select(Evidence.signal_id).where(Evidence.observation_id == observation.id))
    assert signal_id is not None
    return signal_id


def token_for(settings: Settings, user: User) -> str:
    return create_token(settings, user.id, user.role, "access")


def auth(app: Any, user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(app.state.settings, user)}"}


def make_review_match(session: Session, lead: Lead, **fields: Any) -> uuid.UUID:
    """An unlinked profile observation waiting in the review queue for ``lead``; returns the match id."""
    from upswing.resolution.models import Match

    observation = Observation(source_id=file_source(session).id, lead_id=None, kind="profile", raw={},
                              normalized={"actor": "harvestapi", "first_name": lead.first_name,
                                          "last_name": lead.last_name, "experiences": []},
                              subject_key=fields.pop("subject_key", f"li:review-{next(_counter)}"),
                              content_hash=uuid.uuid4().hex + uuid.uuid4().hex,
                              observed_at=datetime(2026, 11, 1, tzinfo=UTC),
                              last_observed_at=datetime(2026, 11, 1, tzinfo=UTC))
    session.add(observation)
    session.flush()
    match = Match(observation_id=observation.id, lead_id=lead.id, score=fields.pop("score", 0.75), outcome="review",
                  method="probabilistic", agreed={"first_name": "exact"}, disagreed={}, **fields)
    session.add(match)
    session.flush()
    return match.id


def make_keyword_classifier(rules: dict[str, str], *, confidence: float = 0.9,
                            thresholds: dict[str, float] | None = None) -> Any:
    """A stand-in text classifier for wiring tests: the first rule (phrase → label) whose phrase the text contains
    (case-insensitive) gives the label, with the matching sentence as evidence; no rule gives ``none``. A label
    whose ``thresholds`` entry is above ``confidence`` stays the best guess and the decision is ``none``.
    Tests of the shipped model itself call the real one."""
    from upswing.detection.classifier import Prediction

    class KeywordClassifier:
        def predict(self, texts: Any) -> list[Prediction]:
            out = []
            for text in texts:
                lowered = text.lower()
                label = next((lab for phrase, lab in rules.items() if phrase.lower() in lowered), "none")
                span = None
                if label != "none":  # the sentence around the phrase
                    at = lowered.find(next(p for p, lab in rules.items() if lab == label and p.lower() in lowered))
                    starts = [m.end() for m in re.finditer(r"[.!?]\s+", text) if m.end() <= at]
                    ends = [m.start() + 1 for m in re.finditer(r"[.!?](?:\s|$)", text) if m.start() >= at]
                    span = (starts[-1] if starts else 0, ends[0] if ends else len(text))
                cleared = label == "none" or confidence >= (thresholds or {}).get(label, 0.0)
                out.append(Prediction(label if cleared else "none", confidence if label != "none" else 0.8, span,
                                      best_label=label))
            return out

    return KeywordClassifier()
