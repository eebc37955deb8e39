"""The HubSpot connector against the HubSpot fake (reference §5a): properties, contacts found by our id then e-mail,
notes/tasks made once, batch pushes, 429 back-off, OAuth refresh, signed webhooks read into RemoteChanges."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest

from upswing.crm.connector import (
    ChangeKind,
    CrmError,
    LeadRecord,
    RateLimited,
    SignalPush,
    SignalRecord,
    WebhookRejected,
)
from upswing.crm.connectors import connector_for
from upswing.crm.connectors.hubspot import HubSpotConnector, signal_marker
from upswing.fakes.hubspot import SEARCH_ROUTE, FakeHubSpot, SignedWebhook
from upswing.fakes.server import Fault

TOKEN = "pat-na1-11111111-2222"
SECRET = "app-client-secret"
HOOK_URL = "https://upswing.example/api/crm/webhooks/hubspot?connection=abc"
OUR_PROPERTIES = {"upswing_lead_id", "upswing_account_id", "upswing_score", "upswing_priority",
                  "upswing_last_signal_type", "upswing_last_signal_at", "upswing_contactable_from"}
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def fake() -> Iterator[FakeHubSpot]:
    # the fake's own search limit (5/s) is tested in tests/fakes; here the recorded sleeps do not really wait
    hub = FakeHubSpot(access_token=TOKEN, client_secret=SECRET, webhook_target=HOOK_URL, search_per_s=1000)
    with hub:
        yield hub


def make_connector(fake: FakeHubSpot, http: httpx.Client, **config: Any) -> HubSpotConnector:
    connector = HubSpotConnector({"base_url": fake.url, "access_token": TOKEN, "client_secret": SECRET, **config},
                                 http)
    connector.slept = []  # type: ignore[attr-defined]
    connector.sleep = connector.slept.append  # type: ignore[attr-defined]
    return connector


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


@pytest.fixture
def hub(fake: FakeHubSpot, http: httpx.Client) -> HubSpotConnector:
    connector = make_connector(fake, http)
    connector.connect()
    connector.usage.calls = 0
    return connector


def lead(n: int = 1, **changes: Any) -> LeadRecord:
    record = LeadRecord(lead_id=uuid.UUID(int=n), external_id=f"ACC-{n:05d}", first_name="Rosa", last_name=f"Diaz{n}",
                        email=f"rosa{n}@example.com", phone="+4930123456",
                        properties={"upswing_lead_id": str(uuid.UUID(int=n)), "upswing_score": "82",
                                    "upswing_priority": "high", "upswing_last_signal_type": "new_job",
                                    "upswing_last_signal_at": NOW.isoformat(), "upswing_contactable_from": None})
    return replace(record, **changes)


def signal(n: int = 1, lead_n: int = 1, priority: str = "high", owner: str | None = None) -> SignalRecord:
    return SignalRecord(signal_id=uuid.UUID(int=10_000 + n), lead_id=uuid.UUID(int=lead_n), type="new_job",
                        priority=priority, score=82.0, summary=f"New job: Data Analyst at Acme (score 82) #{n}",
                        detail="Started as Data Analyst\nhttps://example.com/p/1\nContact allowed from 2026-03-03",
                        detected_at=NOW, due_at=NOW + timedelta(days=1), make_task=priority in ("urgent", "high"),
                        owner_remote_id=owner)


# ---- registry and connect


def test_the_connector_is_registered_as_hubspot() -> None:
    assert connector_for("hubspot") is HubSpotConnector


def test_connect_creates_our_contact_properties_once(fake: FakeHubSpot, http: httpx.Client) -> None:
    connector = make_connector(fake, http)
    first = connector.connect()
    assert set(first["properties_created"]) == OUR_PROPERTIES and first["properties_existing"] == []
    assert first["portal_id"] == fake.portal_id
    created = fake.properties("contacts")
    assert created["upswing_lead_id"]["hasUniqueValue"] is True
    assert created["upswing_score"]["type"] == "number" and created["upswing_last_signal_at"]["type"] == "datetime"
    assert [o["value"] for o in created["upswing_priority"]["options"]] == ["urgent", "high", "medium", "low"]
    again = connector.connect()  # every property answers 409 now: tolerated
    assert again["properties_created"] == [] and set(again["properties_existing"]) == OUR_PROPERTIES
    assert len(fake.requests_to("property-create")) == 2 * len(OUR_PROPERTIES)


def test_connect_with_a_bad_token_fails_without_retrying(fake: FakeHubSpot, http: httpx.Client) -> None:
    connector = make_connector(fake, http, access_token="pat-wrong")
    with pytest.raises(CrmError, match="401") as raised:
        connector.connect()
    assert not isinstance(raised.value, RateLimited) and connector.usage.calls == 1


def test_writing_before_connect_is_refused_by_hubspot(fake: FakeHubSpot, http: httpx.Client) -> None:
    # the fake rejects unknown properties as HubSpot does: our custom ones exist only after connect()
    with pytest.raises(CrmError, match="PROPERTY_DOESNT_EXIST"):
        make_connector(fake, http).upsert_lead(lead(1))


# ---- contacts


def test_upsert_finds_the_contact_by_lead_id_then_by_email_else_creates(fake: FakeHubSpot,
                                                                        hub: HubSpotConnector) -> None:
    by_id = fake.seed_contact(upswing_lead_id=str(uuid.UUID(int=1)), email="old-address@example.com",
                              firstname="Rosa", lastname="Diaz1")
    by_email = fake.seed_contact(email="ROSA2@example.com", firstname="R.", lastname="Diaz")
    assert hub.upsert_lead(lead(1)) == by_id  # our id wins over the (different) e-mail
    assert hub.upsert_lead(lead(2)) == by_email
    new = hub.upsert_lead(lead(3))
    assert new not in (by_id, by_email) and len(fake.contacts()) == 3
    assert fake.contact(by_id)["upswing_score"] == "82" and fake.contact(by_id)["email"] == "rosa1@example.com"
    assert fake.contact(by_email)["upswing_lead_id"] == str(uuid.UUID(int=2))
    assert fake.contact(new)["upswing_account_id"] == "ACC-00003"
    assert fake.contact(new)["upswing_last_signal_at"] == "2026-03-02T09:30:00.000Z"


def test_an_unchanged_lead_is_not_written_again(fake: FakeHubSpot, hub: HubSpotConnector) -> None:
    owner = fake.add_owner("dana@bank.example")
    contact = hub.upsert_lead(lead(1, owner_remote_id=owner))
    fake.reset_log()
    assert hub.upsert_lead(lead(1, owner_remote_id=owner)) == contact
    assert fake.requests_to("object-update") == [] and len(fake.requests_to(SEARCH_ROUTE)) == 1
    assert hub.upsert_lead(lead(1, owner_remote_id=owner, properties={"upswing_score": "90"})) == contact
    [patch] = fake.requests_to("object-update")
    assert patch.json() == {"properties": {"upswing_score": "90"}}
    assert fake.contact(contact)["hubspot_owner_id"] == owner


def test_a_contact_the_search_missed_is_found_from_the_409(fake: FakeHubSpot, hub: HubSpotConnector) -> None:
    existing = fake.seed_contact(email="rosa1@example.com")
    # the search index lags writes: the search answers nothing, the create is refused naming the contact
    fake.inject(SEARCH_ROUTE, Fault.unexpected({"total": 0, "results": []}))
    assert hub.upsert_lead(lead(1)) == existing
    assert fake.contact(existing)["upswing_lead_id"] == str(uuid.UUID(int=1)) and len(fake.contacts()) == 1


def test_read_lead_returns_our_fields_and_the_mapped_ones(fake: FakeHubSpot, hub: HubSpotConnector) -> None:
    owner = fake.add_owner("dana@bank.example")
    contact = hub.upsert_lead(lead(1, owner_remote_id=owner))
    record = hub.read_lead(str(uuid.UUID(int=1)))
    assert record is not None and record["id"] == contact and record["lead_id"] == uuid.UUID(int=1)
    assert record["owner_remote_id"] == owner and record["external_id"] == "ACC-00001"
    assert record["properties"]["upswing_priority"] == "high" and "lifecyclestage" in record["properties"]
    assert hub.read_lead("ACC-00001") is not None and hub.read_lead(str(uuid.UUID(int=99))) is None


# ---- signals


def test_push_signal_twice_makes_one_note_and_one_task(fake: FakeHubSpot, hub: HubSpotConnector) -> None:
    owner = fake.add_owner("dana@bank.example")
    contact = hub.upsert_lead(lead(1))
    first = hub.push_signal(contact, signal(1, owner=owner))
    again = hub.push_signal(contact, signal(1, owner=owner))
    assert first == again and first.note_id and first.task_id and first.remote_lead_id == contact
    [note] = fake.notes(contact)
    [task] = fake.tasks(contact)
    assert note["id"] == first.note_id and note["contact_ids"] == [contact]
    assert signal_marker(signal(1).signal_id) in note["hs_note_body"] and "New job" in note["hs_note_body"]
    assert note["hs_timestamp"] == "2026-03-02T09:30:00.000Z"
    assert (task["hs_task_priority"], task["hs_task_status"], task["hubspot_owner_id"]) == ("HIGH", "NOT_STARTED",
                                                                                           owner)
    assert task["hs_timestamp"] == "2026-03-03T09:30:00.000Z"  # due_at
    assert task["contact_ids"] == [contact] and hub.signal_ids_on([contact]) == {signal(1).signal_id}
    bodies = [r.json() for r in fake.requests_to("object-create") if not r.path.endswith("/contacts")]
    assert [b["associations"][0]["types"][0]["associationTypeId"] for b in bodies] == [202, 204]


def test_a_medium_signal_gets_a_note_and_no_task(fake: FakeHubSpot, hub: HubSpotConnector) -> None:
    contact = hub.upsert_lead(lead(1))
    pushed = hub.push_signal(contact, signal(2, priority="medium"))
    assert pushed.note_id and pushed.task_id is None and fake.tasks(contact) == []


def test_a_push_that_crashed_after_the_note_makes_only_the_task_on_repeat(fake: FakeHubSpot,
                                                                          hub: HubSpotConnector) -> None:
    contact = hub.upsert_lead(lead(1))
    fake.inject(r"^/crm/v3/objects/tasks$", Fault.server_error())
    with pytest.raises(CrmError, match="500"):
        hub.push_signal(contact, signal(1))
    assert len(fake.notes(contact)) == 1 and fake.tasks(contact) == []
    pushed = hub.push_signal(contact, signal(1))
    assert pushed.note_id == fake.notes(contact)[0]["id"] and len(fake.notes(contact)) == 1
    assert [t["id"] for t in fake.tasks(contact)] == [pushed.task_id]


def test_a_batch_of_200_signals_costs_a_handful_of_calls(fake: FakeHubSpot, hub: HubSpotConnector) -> None:
    # 40 leads exist already (20 by our id, 20 by e-mail); 10 of their signals were pushed before
    for n in range(1, 21):
        fake.seed_contact(upswing_lead_id=str(uuid.UUID(int=n)), email=f"rosa{n}@example.com")
    for n in range(21, 41):
        fake.seed_contact(email=f"rosa{n}@example.com")
    earlier = {n: hub.push_signal(hub.upsert_lead(lead(n)), signal(n, n)) for n in range(1, 11)}
    hub.usage.calls = 0
    items = [(lead(n), signal(n, n, priority="high" if n % 2 else "low")) for n in range(1, 201)]
    results = hub.push_signals(items)
    assert all(isinstance(r, SignalPush) for r in results), [r for r in results if not isinstance(r, SignalPush)]
    pushes = [r for r in results if isinstance(r, SignalPush)]
    assert hub.usage.calls <= 16, hub.usage.calls  # 12 today: a per-signal push would take ≥ 3 calls each (600)
    assert len(fake.contacts()) == 200 and len(fake.notes()) == 200
    assert len(fake.tasks()) == 100 + sum(1 for n in range(1, 11) if n % 2 == 0)  # the earlier high ones
    for n, push in earlier.items():  # found, not made again
        assert pushes[n - 1].note_id == push.note_id
    for (record, sig), push in zip(items, pushes, strict=True):
        [note] = fake.notes(push.remote_lead_id)
        assert note["id"] == push.note_id and signal_marker(sig.signal_id) in note["hs_note_body"]
        assert fake.contact(push.remote_lead_id)["upswing_lead_id"] == str(record.lead_id)
        assert (push.task_id is not None) == (sig.make_task or sig.signal_id in {s.signal_id for s in
                                                                                   (signal(n, n) for n in earlier)})
    hub.usage.calls = 0
    assert hub.push_signals(items) == results  # a repeat finds everything
    assert len(fake.notes()) == 200 and hub.usage.calls <= 12


def test_one_bad_item_in_a_batch_fails_alone(fake: FakeHubSpot, hub: HubSpotConnector) -> None:
    items = [(lead(n), signal(n, n, owner="999" if n == 2 else None)) for n in range(1, 4)]  # 999: no such owner
    results = hub.push_signals(items)
    assert isinstance(results[0], SignalPush) and isinstance(results[2], SignalPush)
    assert isinstance(results[1], CrmError) and "owner" in str(results[1])
    assert len(fake.notes()) == 2


# ---- rate limits


def test_a_429_storm_is_waited_out_per_the_window_headers(fake: FakeHubSpot, http: httpx.Client) -> None:
    connector = make_connector(fake, http, max_backoff_s=2, search_per_s=100)  # no pacing waits in `slept`
    connector.connect()
    fake.inject(SEARCH_ROUTE, FakeHubSpot.rate_limited("TEN_SECONDLY_ROLLING"), times=3)
    connector.upsert_lead(lead(1))
    assert connector.slept == [2, 2, 2]  # type: ignore[attr-defined]  # 10 s window, capped at 2 s each
    assert connector.usage.retries_after_429 == 3
    fake.inject(SEARCH_ROUTE, FakeHubSpot.rate_limited("SECONDLY"))
    fake.inject(SEARCH_ROUTE, FakeHubSpot.rate_limited(retry_after="1.5"))  # served after the first
    connector.upsert_lead(lead(1))
    assert connector.slept[3:] == [1.0, 1.5]  # type: ignore[attr-defined]


def test_a_429_storm_that_lasts_raises_rate_limited(fake: FakeHubSpot, hub: HubSpotConnector) -> None:
    fake.inject(SEARCH_ROUTE, FakeHubSpot.rate_limited("TEN_SECONDLY_ROLLING"), times=50)
    with pytest.raises(RateLimited) as raised:
        hub.upsert_lead(lead(1))
    assert raised.value.retry_after == 10.0 and hub.usage.retries_after_429 == hub.max_retries == 4
    assert len(fake.requests_to(SEARCH_ROUTE)) == 5 and hub.usage.calls == 5


def test_the_daily_limit_raises_at_once_until_midnight(fake: FakeHubSpot, hub: HubSpotConnector) -> None:
    fake.inject(SEARCH_ROUTE, FakeHubSpot.rate_limited("DAILY"))
    with pytest.raises(RateLimited) as raised:
        hub.upsert_lead(lead(1))
    assert 0 < raised.value.retry_after <= 86_400 and hub.slept == []  # type: ignore[attr-defined]


def test_a_batch_push_lets_rate_limited_through(fake: FakeHubSpot, hub: HubSpotConnector) -> None:
    fake.inject("batch-create", FakeHubSpot.rate_limited(), times=50)
    with pytest.raises(RateLimited):
        hub.push_signals([(lead(1), signal(1))])


def test_usage_reports_the_daily_budget(fake: FakeHubSpot, hub: HubSpotConnector) -> None:
    hub.upsert_lead(lead(1))
    assert hub.usage.daily_limit == 250_000
    assert hub.usage.daily_remaining is not None and hub.usage.daily_remaining < 250_000


def test_searches_are_paced_under_the_search_limit(fake: FakeHubSpot, http: httpx.Client) -> None:
    connector = HubSpotConnector({"base_url": fake.url, "access_token": TOKEN, "search_per_s": 2}, http)
    connector.connect()
    started = time.monotonic()
    for n in range(1, 4):
        connector.read_lead(str(uuid.UUID(int=n)))
    assert time.monotonic() - started >= 0.5 and connector.usage.retries_after_429 == 0


# ---- OAuth


def test_oauth_refreshes_before_the_first_call_and_after_a_401(fake: FakeHubSpot, http: httpx.Client) -> None:
    refresh = fake.issue_refresh_token()
    connector = HubSpotConnector({"base_url": fake.url, "client_id": fake.client_id,
                                  "client_secret": fake.client_secret, "refresh_token": refresh}, http)
    connector.connect()
    [first] = fake.requests_to("oauth-token")
    assert first.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert b"grant_type=refresh_token" in first.body
    fake.expire_access_tokens()
    assert connector.read_lead(str(uuid.UUID(int=1))) is None  # 401 EXPIRED → refresh → again
    assert len(fake.requests_to("oauth-token")) == 2


def test_a_bad_refresh_token_is_a_crm_error(fake: FakeHubSpot, http: httpx.Client) -> None:
    connector = HubSpotConnector({"base_url": fake.url, "client_id": fake.client_id,
                                  "client_secret": fake.client_secret, "refresh_token": "na1-unknown"}, http)
    with pytest.raises(CrmError, match="refresh token"):
        connector.connect()


# ---- webhooks


def sign(secret: str, uri: str, body: bytes, timestamp: str) -> str:
    """Written from the reference, independently of the fake and the connector."""
    digest = hmac.new(secret.encode(), f"POST{uri}".encode() + body + timestamp.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def hook(body: bytes, *, uri: str = HOOK_URL, secret: str = SECRET, age_s: float = 0) -> dict[str, str]:
    timestamp = str(int((time.time() - age_s) * 1000))
    return {"X-HubSpot-Signature-v3": sign(secret, uri, body, timestamp), "X-HubSpot-Request-Timestamp": timestamp,
            "Content-Type": "application/json"}


EVENT = {"eventId": 4242, "subscriptionId": 100, "portalId": 1, "appId": 777001, "occurredAt": 1_772_443_800_000,
         "subscriptionType": "contact.propertyChange", "attemptNumber": 0, "objectId": 123,
         "propertyName": "hubspot_owner_id", "propertyValue": "555", "changeSource": "CRM_UI",
         "sourceId": "userId:9001"}


def test_a_correctly_signed_webhook_is_read(hub: HubSpotConnector) -> None:
    body = orjson.dumps([EVENT])
    [change] = hub.parse_webhook(hook(body), body, HOOK_URL)
    assert change.event_id == "4242" and change.kind is ChangeKind.FIELD_CHANGED
    assert (change.remote_lead_id, change.field, change.value) == ("123", "hubspot_owner_id", "555")
    assert change.changed_at == datetime.fromtimestamp(1_772_443_800, UTC) and not change.by_us
    assert change.lead_id is None


@pytest.mark.parametrize(("case", "headers_of"), [
    ("tampered body", lambda body: hook(body.replace(b"555", b"556"))),
    ("stale timestamp", lambda body: hook(body, age_s=301)),
    ("wrong secret", lambda body: hook(body, secret="another-secret")),
    ("another url", lambda body: hook(body, uri="https://evil.example/hook")),
    ("no signature", lambda body: {"X-HubSpot-Request-Timestamp": str(int(time.time() * 1000))}),
    ("no timestamp", lambda body: {"X-HubSpot-Signature-v3": hook(body)["X-HubSpot-Signature-v3"]}),
])
def test_a_webhook_that_does_not_check_out_is_rejected(hub: HubSpotConnector, case: str, headers_of: Any) -> None:
    body = orjson.dumps([EVENT])
    with pytest.raises(WebhookRejected):
        hub.parse_webhook(headers_of(body), body, HOOK_URL)


def test_a_signature_over_the_decoded_uri_is_accepted(hub: HubSpotConnector) -> None:
    encoded = "https://upswing.example/hooks/hubspot?next=%2Fcrm%3Fa%3Db%40c"
    decoded = "https://upswing.example/hooks/hubspot?next=/crm?a%3Db@c"  # "=" is not on HubSpot's list
    body = orjson.dumps([EVENT])
    assert len(hub.parse_webhook(hook(body, uri=decoded), body, encoded)) == 1


def test_a_webhook_is_rejected_without_a_configured_secret(fake: FakeHubSpot, http: httpx.Client) -> None:
    connector = HubSpotConnector({"base_url": fake.url, "access_token": TOKEN}, http)
    body = orjson.dumps([EVENT])
    with pytest.raises(WebhookRejected, match="client_secret"):
        connector.parse_webhook(hook(body), body, HOOK_URL)


def test_an_owner_change_in_hubspot_becomes_a_field_change(fake: FakeHubSpot, hub: HubSpotConnector) -> None:
    contact = hub.upsert_lead(lead(1))
    owner = fake.add_owner("lee@bank.example")
    webhook = fake.change_owner(contact, owner, send=False)
    assert isinstance(webhook, SignedWebhook) and webhook.url == HOOK_URL
    [change] = hub.parse_webhook(webhook.headers, webhook.body, webhook.url)
    assert (change.kind, change.remote_lead_id, change.field, change.value) == (ChangeKind.FIELD_CHANGED, contact,
                                                                                "hubspot_owner_id", owner)
    assert change.event_id == str(webhook.events[0]["eventId"]) and not change.by_us
    assert fake.contact(contact)["hubspot_owner_id"] == owner


def test_a_completed_task_names_its_signal(fake: FakeHubSpot, hub: HubSpotConnector) -> None:
    contact = hub.upsert_lead(lead(1))
    pushed = hub.push_signal(contact, signal(7))
    assert pushed.task_id is not None
    webhook = fake.complete_task(pushed.task_id, send=False)
    assert isinstance(webhook, SignedWebhook)
    [change] = hub.parse_webhook(webhook.headers, webhook.body, webhook.url)
    assert change.kind is ChangeKind.TASK_COMPLETED and change.signal_id == signal(7).signal_id
    assert change.remote_lead_id == contact and change.value == "COMPLETED" and not change.by_us
    assert fake.tasks(contact)[0]["hs_task_status"] == "COMPLETED"


def test_our_own_changes_come_back_marked_by_us(fake: FakeHubSpot, hub: HubSpotConnector) -> None:
    owner = fake.add_owner("dana@bank.example")
    contact = hub.upsert_lead(lead(1, owner_remote_id=owner))
    webhook = fake.flush_webhooks(send=False)
    assert isinstance(webhook, SignedWebhook)
    [change] = hub.parse_webhook(webhook.headers, webhook.body, webhook.url)
    assert (change.remote_lead_id, change.field, change.value, change.by_us) == (contact, "hubspot_owner_id", owner,
                                                                                  True)
    other_app = {**EVENT, "changeSource": "INTEGRATION", "sourceId": "31337"}
    body = orjson.dumps([other_app])
    assert not hub.parse_webhook(hook(body), body, HOOK_URL)[0].by_us


def test_events_we_do_not_map_are_skipped_and_repeats_counted_once(fake: FakeHubSpot, hub: HubSpotConnector) -> None:
    someone_elses = fake.seed_contact(email="x@example.com")
    unrelated = {**EVENT, "eventId": 1, "propertyName": "jobtitle", "propertyValue": "CTO"}
    creation = {**EVENT, "eventId": 2, "subscriptionType": "contact.creation"}
    foreign_task = {**EVENT, "eventId": 3, "subscriptionType": "task.propertyChange", "objectId": int(someone_elses),
                    "propertyName": "hs_task_status", "propertyValue": "COMPLETED"}  # no such task: skipped
    body = orjson.dumps([unrelated, creation, foreign_task, EVENT, {**EVENT, "attemptNumber": 1}])
    changes = hub.parse_webhook(hook(body), body, HOOK_URL)
    assert [c.event_id for c in changes] == ["4242"]


def test_a_body_that_is_not_an_event_array_is_rejected(hub: HubSpotConnector) -> None:
    body = b'{"eventId": 1}'
    with pytest.raises(WebhookRejected, match="array"):
        hub.parse_webhook(hook(body), body, HOOK_URL)


def test_the_first_poll_only_starts_the_cursor(hub: HubSpotConnector) -> None:
    changes, cursor = hub.pull_changes(None)
    assert changes == [] and hub.usage.calls == 0
    assert cursor is not None and cursor.endswith("Z") and "T" in cursor  # HubSpot's ISO form, from now on
