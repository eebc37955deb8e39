"""CRM sync end to end, both directions, on both databases, against the HubSpot and Salesforce fakes: a new signal
goes through the outbox into a push, lands as a note + task (HubSpot) or a Task (Salesforce) on the right record,
once even when pushed again; work done in the CRM (a task completed, an owner changed) comes back; our own writes
coming back are echoes; a shared field changed on both sides is a logged conflict."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from factories import auth, make_lead, make_signal, make_user
from upswing.account.models import Role
from upswing.core.db import utcnow
from upswing.crm import service
from upswing.crm.models import CrmConflict, CrmConnection, CrmInboundEvent, CrmPush, PushStatus
from upswing.detection.events import SignalType
from upswing.fakes.hubspot import FakeHubSpot
from upswing.fakes.salesforce import FakeSalesforce
from upswing.lead.models import Lead, LeadCrmId
from upswing.signal.models import Signal

HS_TOKEN, HS_SECRET = "pat-na1-test", "hub-app-secret"
SF_KEY, SF_SECRET = "3MVG9-test-key", "sf-secret"


@pytest.fixture
def hubspot() -> Iterator[FakeHubSpot]:
    hub = FakeHubSpot(access_token=HS_TOKEN, client_secret=HS_SECRET, search_per_s=1000)
    with hub:
        yield hub


@pytest.fixture
def salesforce() -> Iterator[FakeSalesforce]:
    fake = FakeSalesforce(consumer_key=SF_KEY, consumer_secret=SF_SECRET)
    with fake:
        yield fake


def _fresh_urgent_signal(session: Session, lead: Lead, **fields: Any) -> Any:
    now = utcnow()
    signal_id = make_signal(session, lead, effective_date=now.date(), observed_at=now, **fields)
    session.execute(update(Signal).where(Signal.id == signal_id).values(priority="urgent"))
    return signal_id


def _push(session: Session, factory: sessionmaker[Session], deliver: Callable[[], Any]) -> service.PushReport:
    session.commit()
    deliver()  # signal.created → crm.enqueue: a push per connection
    return service.push_due(factory, http=lambda connection: httpx.Client(timeout=10, trust_env=False))


def test_hubspot_both_ways(app: Any, client: Any, db_session: Session, session_factory: sessionmaker[Session],
                           deliver_events: Callable[[], Any], hubspot: FakeHubSpot) -> None:
    agent, teammate, other = (make_user(db_session, Role.AGENT) for _ in range(3))
    owners = {user.id: hubspot.add_owner(f"{user.username}@example.com") for user in (agent, teammate, other)}
    connection = service.create_connection(
        db_session, system="hubspot", name="hubspot", actor="test",
        config={"base_url": hubspot.url, "access_token": HS_TOKEN, "client_secret": HS_SECRET},
        owner_map={str(user_id): owner for user_id, owner in owners.items()})
    service.connect(db_session, connection, actor="test")
    lead = make_lead(db_session, assignee_id=agent.id)
    signal_id = _fresh_urgent_signal(db_session, lead)

    report = _push(db_session, session_factory, deliver_events)
    assert (report.sent, report.failed) == (1, 0)
    (contact,) = [c for c in hubspot.contacts() if c.get("upswing_lead_id") == str(lead.id)]
    notes, tasks = hubspot.notes(contact["id"]), hubspot.tasks(contact["id"])
    assert len(notes) == 1 and len(tasks) == 1
    assert str(signal_id) in notes[0]["hs_note_body"]
    assert tasks[0]["hubspot_owner_id"] == owners[agent.id]
    assert contact["upswing_priority"] == "urgent"
    db_session.expire_all()
    lead_page = client.get(f"/api/v1/leads/{lead.id}", headers=auth(app, make_user(db_session, Role.MANAGER)))
    assert lead_page.json()["crm_ids"] == {"hubspot": contact["id"]}  # a CRM finds the lead by its contact id

    # A worker that died after HubSpot answered: the push is due again, and the repeat makes nothing new.
    db_session.execute(update(CrmPush).values(status=PushStatus.PENDING.value, run_after=utcnow()))
    db_session.commit()
    assert service.push_due(session_factory).sent == 1
    assert (len(hubspot.notes(contact["id"])), len(hubspot.tasks(contact["id"]))) == (1, 1)

    hook = f"http://testserver/api/v1/crm/webhooks/{connection.id}"
    hubspot.webhook_target = hook
    # Our own writes come back as HubSpot webhooks: echoes, nothing changes.
    echoes = hubspot.flush_webhooks(send=False)
    if echoes is not None:
        answer = client.post(hook, content=echoes.body, headers=dict(echoes.headers))
        assert answer.status_code == 200 and answer.json()["applied"] == 0

    # The specialist completes the task in HubSpot: the signal is actioned (a CRM task), once.
    done = hubspot.signed_webhook([hubspot.property_change_event("tasks", tasks[0]["id"], "hs_task_status",
                                                                 "COMPLETED")], url=hook)
    first = client.post(hook, content=done.body, headers=dict(done.headers))
    again = client.post(hook, content=done.body, headers=dict(done.headers))
    assert first.status_code == 200 and first.json()["applied"] == 1, first.text
    assert again.json()["duplicates"] == 1
    db_session.expire_all()
    signal = db_session.get(Signal, signal_id)
    assert (signal.status, signal.action) == ("actioned", "crm_task")

    # The manager reassigns the contact in HubSpot: the lead follows (the CRM owns the owner).
    moved = hubspot.signed_webhook([hubspot.property_change_event("contacts", contact["id"], "hubspot_owner_id",
                                                                  owners[teammate.id])], url=hook)
    assert client.post(hook, content=moved.body, headers=dict(moved.headers)).json()["applied"] == 1
    db_session.expire_all()
    assert db_session.get(Lead, lead.id).assignee_id == teammate.id

    # A tampered body is refused and changes nothing.
    forged = hubspot.signed_webhook([hubspot.property_change_event("contacts", contact["id"], "hubspot_owner_id",
                                                                   owners[other.id])], url=hook)
    assert client.post(hook, content=forged.body.replace(b"hubspot", b"hubspoT"),
                       headers=dict(forged.headers)).status_code == 401
    db_session.expire_all()
    assert db_session.get(Lead, lead.id).assignee_id == teammate.id

    page = client.get(f"/api/v1/crm/connections/{connection.id}", headers=auth(app, make_user(db_session,
                                                                                               Role.ADMIN)))
    assert page.json()["pushes"] == {"pending": 0, "sent": 1, "failed": 0}


def test_salesforce_both_ways_and_a_conflict(db_session: Session, session_factory: sessionmaker[Session],
                                             deliver_events: Callable[[], Any], salesforce: FakeSalesforce) -> None:
    agent, teammate, third = (make_user(db_session, Role.AGENT) for _ in range(3))
    owners = {agent.id: "005000000000001AAA", teammate.id: "005000000000002AAA", third.id: "005000000000003AAA"}
    salesforce.users.update({f"{user_id}@acme.example": owner for user_id, owner in owners.items()})
    connection = service.create_connection(
        db_session, system="salesforce", name="salesforce", actor="test",
        config={"auth": "client_credentials", "login_url": salesforce.my_domain_url, "client_id": SF_KEY,
                "client_secret": SF_SECRET},
        owner_map={str(user_id): owner for user_id, owner in owners.items()})
    service.connect(db_session, connection, actor="test")
    lead = make_lead(db_session, assignee_id=agent.id)
    signal_id = _fresh_urgent_signal(db_session, lead)
    pushed = _push(db_session, session_factory, deliver_events)
    assert pushed.sent == 1, db_session.scalars(select(CrmPush.last_error)).all()
    (sf_lead,) = [r for r in salesforce.leads if r.get("Upswing_Lead_Id__c") == str(lead.id)]
    (task,) = salesforce.tasks_for(sf_lead["Id"])
    assert task["Upswing_Signal_Id__c"] == str(signal_id) and task["Priority"] == "High"
    assert task["OwnerId"] == owners[agent.id]
    assert db_session.scalar(select(LeadCrmId.crm_id).where(LeadCrmId.lead_id == lead.id,
                                                            LeadCrmId.system == "salesforce")) == sf_lead["Id"]

    db_session.execute(update(CrmPush).values(status=PushStatus.PENDING.value, run_after=utcnow()))
    db_session.commit()
    assert service.push_due(session_factory).sent == 1
    assert len(salesforce.tasks_for(sf_lead["Id"])) == 1  # upserted by the signal's id: still one

    connection = db_session.get(CrmConnection, connection.id)
    first = service.pull(db_session, connection)  # our own writes only: echoes
    assert first.applied == 0

    salesforce.advance(2)
    salesforce.complete_task(task["Id"])
    salesforce.change_owner(sf_lead["Id"], owners[teammate.id])
    report = service.pull(db_session, connection)
    assert report.applied == 2, report
    db_session.expire_all()
    assert db_session.get(Signal, signal_id).action == "crm_task"
    assert db_session.get(Lead, lead.id).assignee_id == teammate.id
    assert service.pull(db_session, connection).applied == 0  # nothing new: nothing applied twice

    # Both sides change the owner since our last write: the later change wins, and the conflict is logged.
    assert _push_again(db_session, session_factory, lead) == 1  # our write now says: teammate
    db_session.execute(update(Lead).where(Lead.id == lead.id).values(assignee_id=agent.id, updated_at=utcnow()))
    db_session.commit()
    salesforce.advance(2)
    salesforce.change_owner(sf_lead["Id"], owners[third.id])
    service.pull(db_session, connection)
    db_session.expire_all()
    (conflict,) = db_session.scalars(select(CrmConflict)).all()
    assert (conflict.field, conflict.winner, conflict.crm_value) == ("owner", "crm", owners[third.id])
    assert db_session.get(Lead, lead.id).assignee_id == third.id
    assert db_session.scalar(select(CrmInboundEvent.id).where(CrmInboundEvent.result == "conflict")) is not None


def _push_again(session: Session, factory: sessionmaker[Session], lead: Lead) -> int:
    """Push the lead's signal once more (what the next signal on the lead would do): our fields are written again."""
    session.execute(update(CrmPush).where(CrmPush.lead_id == lead.id)
                    .values(status=PushStatus.PENDING.value, run_after=utcnow()))
    session.commit()
    return service.push_due(factory).sent


def test_reconcile_finds_and_requeues_what_the_crm_lost(db_session: Session, session_factory: sessionmaker[Session],
                                                        deliver_events: Callable[[], Any],
                                                        salesforce: FakeSalesforce) -> None:
    connection = service.create_connection(
        db_session, system="salesforce", name="sf", actor="test",
        config={"auth": "client_credentials", "login_url": salesforce.my_domain_url, "client_id": SF_KEY,
                "client_secret": SF_SECRET})
    lead = make_lead(db_session)
    _fresh_urgent_signal(db_session, lead)
    _fresh_urgent_signal(db_session, lead, type_=SignalType.CERTIFICATION, title=None, organization=None,
                         snippet="Certified Pharmacy Technician (PTCB)")
    assert _push(db_session, session_factory, deliver_events).sent == 2
    connection = db_session.get(CrmConnection, connection.id)
    assert service.reconcile(db_session, connection).differences == 0
    (sf_lead,) = salesforce.leads
    salesforce.edit("Task", salesforce.tasks_for(sf_lead["Id"])[0]["Id"], {"Upswing_Signal_Id__c": None})
    drift = service.reconcile(db_session, connection)
    assert (drift.missing, drift.differences) == (1, 1)
    db_session.commit()
    assert service.push_due(session_factory).sent == 1
    assert service.reconcile(db_session, connection, repair=False).differences == 0


def test_reconcile_repairs_fields_from_the_side_that_owns_them(db_session: Session,
                                                               session_factory: sessionmaker[Session],
                                                               deliver_events: Callable[[], Any],
                                                               hubspot: FakeHubSpot) -> None:
    agent, teammate = make_user(db_session, Role.AGENT), make_user(db_session, Role.AGENT)
    owners = {user.id: hubspot.add_owner(f"{user.username}@example.com") for user in (agent, teammate)}
    connection = service.create_connection(
        db_session, system="hubspot", name="hs-drift", actor="test",
        config={"base_url": hubspot.url, "access_token": HS_TOKEN, "client_secret": HS_SECRET},
        owner_map={str(user_id): owner for user_id, owner in owners.items()})
    service.connect(db_session, connection, actor="test")
    lead = make_lead(db_session, assignee_id=agent.id)
    _fresh_urgent_signal(db_session, lead)
    assert _push(db_session, session_factory, deliver_events).sent == 1
    connection = db_session.get(CrmConnection, connection.id)
    assert service.reconcile(db_session, connection).differences == 0
    (contact,) = [c for c in hubspot.contacts() if c.get("upswing_lead_id") == str(lead.id)]
    score = contact["upswing_score"]
    # Changes made in HubSpot whose webhooks never arrived: the owner and status (HubSpot's), our score (ours).
    hubspot.webhook_target = "http://127.0.0.1:9/lost"  # signed, never sent
    hubspot.change_owner(contact["id"], owners[teammate.id], send=False)
    hubspot.change_property("contacts", contact["id"], "hs_lead_status", "CONNECTED", send=False)
    hubspot.change_property("contacts", contact["id"], "upswing_score", "3", send=False)

    seen = service.reconcile(db_session, connection, repair=False)
    assert seen.fields == 3 and seen.differences == 3
    assert {item["field"]: item["repaired"] for item in seen.field_details} == {
        "owner": "upswing", "status": "upswing", "upswing_score": "crm"}
    db_session.expire_all()
    assert db_session.get(Lead, lead.id).assignee_id == agent.id  # a dry run changes nothing

    repaired = service.reconcile(db_session, db_session.get(CrmConnection, connection.id))
    assert repaired.fields == 3
    db_session.commit()
    db_session.expire_all()
    stored = db_session.get(Lead, lead.id)
    assert (stored.assignee_id, stored.status) == (teammate.id, "contacted")
    assert hubspot.contact(contact["id"])["upswing_score"] == score
    assert service.reconcile(db_session, db_session.get(CrmConnection, connection.id)).differences == 0


def test_a_status_changed_in_salesforce_is_pulled_into_the_lead(db_session: Session,
                                                                 session_factory: sessionmaker[Session],
                                                                 deliver_events: Callable[[], Any],
                                                                 salesforce: FakeSalesforce) -> None:
    connection = service.create_connection(
        db_session, system="salesforce", name="sf-status", actor="test",
        config={"auth": "client_credentials", "login_url": salesforce.my_domain_url, "client_id": SF_KEY,
                "client_secret": SF_SECRET, "status_map": {"Nurturing": "promise"}})
    lead = make_lead(db_session)
    _fresh_urgent_signal(db_session, lead)
    assert _push(db_session, session_factory, deliver_events).sent == 1
    connection = db_session.get(CrmConnection, connection.id)
    service.pull(db_session, connection)
    (sf_lead,) = salesforce.leads
    salesforce.advance(2)
    salesforce.edit("Lead", sf_lead["Id"], {"Status": "Closed - Converted"})
    assert service.pull(db_session, connection).applied == 1
    db_session.expire_all()
    assert db_session.get(Lead, lead.id).status == "resolved"
    salesforce.advance(2)
    salesforce.edit("Lead", sf_lead["Id"], {"Status": "Nurturing"})  # the connection's own status word
    service.pull(db_session, db_session.get(CrmConnection, connection.id))
    db_session.expire_all()
    assert db_session.get(Lead, lead.id).status == "promise"
    salesforce.advance(2)
    salesforce.edit("Lead", sf_lead["Id"], {"Status": "Something Else"})  # not mapped: not imported
    service.pull(db_session, db_session.get(CrmConnection, connection.id))
    db_session.expire_all()
    assert db_session.get(Lead, lead.id).status == "promise"


def test_hubspot_polling_is_the_fallback_when_webhooks_cannot_reach_us(db_session: Session,
                                                                      session_factory: sessionmaker[Session],
                                                                      deliver_events: Callable[[], Any],
                                                                      hubspot: FakeHubSpot) -> None:
    agent, teammate = make_user(db_session, Role.AGENT), make_user(db_session, Role.AGENT)
    owners = {user.id: hubspot.add_owner(f"{user.username}@example.com") for user in (agent, teammate)}
    connection = service.create_connection(
        db_session, system="hubspot", name="hs-poll", actor="test",
        config={"base_url": hubspot.url, "access_token": HS_TOKEN, "client_secret": HS_SECRET, "poll": True},
        owner_map={str(user_id): owner for user_id, owner in owners.items()})
    service.connect(db_session, connection, actor="test")
    assert service.polled(connection)
    lead = make_lead(db_session, assignee_id=agent.id)
    signal_id = _fresh_urgent_signal(db_session, lead)
    connection = db_session.get(CrmConnection, connection.id)
    assert service.pull(db_session, connection).applied == 0  # the first poll starts the cursor: from now on
    assert _push(db_session, session_factory, deliver_events).sent == 1
    connection = db_session.get(CrmConnection, connection.id)
    assert service.pull(db_session, connection).applied == 0  # our own writes: echoes
    (contact,) = [c for c in hubspot.contacts() if c.get("upswing_lead_id") == str(lead.id)]
    (task,) = hubspot.tasks(contact["id"])
    hubspot.webhook_target = "http://127.0.0.1:9/unreachable"
    hubspot.change_owner(contact["id"], owners[teammate.id], send=False)
    hubspot.change_property("contacts", contact["id"], "hs_lead_status", "IN_PROGRESS", send=False)
    hubspot.complete_task(task["id"], send=False)
    polled = service.pull(db_session, connection)
    assert polled.applied == 3, polled
    db_session.expire_all()
    stored = db_session.get(Lead, lead.id)
    assert (stored.assignee_id, stored.status) == (teammate.id, "contacted")
    assert db_session.get(Signal, signal_id).action == "crm_task"
    again = service.pull(db_session, db_session.get(CrmConnection, connection.id))
    assert again.applied == 0  # the same modifications, seen again: applied once
