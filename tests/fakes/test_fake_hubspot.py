"""The HubSpot fake answers in the reference's shapes (§5a, §7): auth, objects, search, associations, properties,
OAuth with PKCE, rate limits with their headers, and v3-signed webhooks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from upswing.fakes.hubspot import SEARCH_ROUTE, FakeHubSpot
from upswing.fakes.server import FakeServer, Reply, Request

TOKEN = "pat-na1-test"


@pytest.fixture
def fake() -> Iterator[FakeHubSpot]:
    hub = FakeHubSpot(access_token=TOKEN, client_secret="shh")
    with hub:
        yield hub


@pytest.fixture
def api(fake: FakeHubSpot) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.url, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        yield client


def note(contact_id: str, type_id: int = 202, **properties: Any) -> dict[str, Any]:
    return {"properties": {"hs_timestamp": "2026-03-02T09:30:00Z", "hs_note_body": "hello", **properties},
            "associations": [{"to": {"id": contact_id}, "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                                                   "associationTypeId": type_id}]}]}


def test_a_missing_or_wrong_token_is_401_in_hubspots_shape(fake: FakeHubSpot) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}):
        answer = httpx.get(f"{fake.url}/crm/v3/objects/contacts/1", headers=headers)
        assert answer.status_code == 401
        body = answer.json()
        assert body["status"] == "error" and body["category"] == "INVALID_AUTHENTICATION" and body["correlationId"]


def test_every_answer_carries_the_rate_limit_headers(api: httpx.Client) -> None:
    answer = api.get("/crm/v3/objects/contacts/404404")
    assert answer.status_code == 404 and answer.json()["category"] == "OBJECT_NOT_FOUND"
    for name in ("Daily", "Daily-Remaining", "Interval-Milliseconds", "Max", "Remaining", "Secondly",
                 "Secondly-Remaining"):
        assert f"x-hubspot-ratelimit-{name.lower()}" in answer.headers
    assert answer.headers["x-hubspot-ratelimit-interval-milliseconds"] == "10000"


def test_contacts_create_get_patch_and_search(fake: FakeHubSpot, api: httpx.Client) -> None:
    created = api.post("/crm/v3/objects/contacts", json={"properties": {"email": "a@x.example", "firstname": "A"}})
    assert created.status_code == 201
    contact = created.json()
    assert set(contact) >= {"id", "properties", "createdAt", "updatedAt", "archived"}
    assert api.post("/crm/v3/objects/contacts", json={"properties": {"email": "A@x.example"}}).status_code == 409
    got = api.get(f"/crm/v3/objects/contacts/{contact['id']}", params={"properties": "email,firstname"}).json()
    assert got["properties"]["firstname"] == "A" and got["properties"]["hs_object_id"] == contact["id"]
    assert api.get("/crm/v3/objects/contacts/a@x.example", params={"idProperty": "email"}).json()["id"] == contact["id"]
    patched = api.patch(f"/crm/v3/objects/contacts/{contact['id']}", json={"properties": {"lastname": "B"}})
    assert patched.status_code == 200 and fake.contact(contact["id"])["lastname"] == "B"
    unknown = api.patch(f"/crm/v3/objects/contacts/{contact['id']}", json={"properties": {"upswing_x": "1"}})
    assert unknown.status_code == 400 and "PROPERTY_DOESNT_EXIST" in unknown.json()["message"]
    search = {"filterGroups": [{"filters": [{"propertyName": "email", "operator": "EQ", "value": "A@X.example"}]}],
              "properties": ["email"]}
    found = api.post("/crm/v3/objects/contacts/search", json=search).json()
    assert found["total"] == 1 and found["results"][0]["id"] == contact["id"]
    too_many: dict[str, Any] = {"filterGroups": [{"filters": []}] * 7}
    assert api.post("/crm/v3/objects/contacts/search", json=too_many).status_code == 400
    assert api.post("/crm/v3/objects/contacts/search", json={"limit": 201}).status_code == 400


def test_search_operators_and_paging(fake: FakeHubSpot, api: httpx.Client) -> None:
    for n in range(5):
        fake.seed_contact(email=f"p{n}@x.example", jobtitle=f"Engineer [upswing:{n}-a] level {n}")

    def search(**body: Any) -> dict[str, Any]:
        return api.post("/crm/v3/objects/contacts/search", json=body).json()  # type: ignore[no-any-return]

    emails = ["p1@x.example", "p3@x.example"]
    assert search(filterGroups=[{"filters": [{"propertyName": "email", "operator": "IN", "values": emails}]}])[
        "total"] == 2
    token = [{"filters": [{"propertyName": "jobtitle", "operator": "CONTAINS_TOKEN", "value": "2-a"}]}]
    assert [r["properties"]["email"] for r in search(filterGroups=token, properties=["email"])["results"]] == [
        "p2@x.example"]
    first = search(limit=2)
    assert len(first["results"]) == 2 and first["paging"]["next"]["after"] == "2"
    assert len(search(limit=2, after="4")["results"]) == 1


def test_notes_need_the_note_to_contact_type_and_are_listed_as_associations(fake: FakeHubSpot,
                                                                            api: httpx.Client) -> None:
    contact = fake.seed_contact(email="a@x.example")
    assert api.post("/crm/v3/objects/notes", json=note(contact, type_id=204)).status_code == 400
    assert api.post("/crm/v3/objects/notes", json=note("999999")).status_code == 400
    no_timestamp = note(contact)
    del no_timestamp["properties"]["hs_timestamp"]
    assert api.post("/crm/v3/objects/notes", json=no_timestamp).status_code == 400
    created = api.post("/crm/v3/objects/notes", json=note(contact)).json()
    v4 = api.get(f"/crm/v4/objects/contacts/{contact}/associations/notes").json()
    assert v4["results"] == [{"toObjectId": int(created["id"]),
                              "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 201, "label": None}]}]
    batch = api.post("/crm/v4/associations/contacts/notes/batch/read", json={"inputs": [{"id": contact}]}).json()
    assert batch["results"][0]["to"][0]["toObjectId"] == int(created["id"])
    got = api.get(f"/crm/v3/objects/contacts/{contact}", params={"associations": "notes"}).json()
    assert got["associations"]["notes"]["results"] == [{"id": created["id"], "type": "contact_to_note"}]
    assert [n["id"] for n in fake.notes(contact)] == [created["id"]]


def test_tasks_take_the_reference_values_and_owners(fake: FakeHubSpot, api: httpx.Client) -> None:
    contact = fake.seed_contact(email="a@x.example")
    owner = fake.add_owner("dana@bank.example")
    properties = {"hs_timestamp": "1772443800000", "hs_task_subject": "Call", "hs_task_status": "NOT_STARTED",
                  "hs_task_priority": "HIGH", "hs_task_type": "CALL", "hubspot_owner_id": owner}
    task: dict[str, Any] = {"properties": properties, "associations": [
        {"to": {"id": contact}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 204}]}]}
    assert api.post("/crm/v3/objects/tasks", json=task).status_code == 201
    bad = {**task, "properties": {**task["properties"], "hs_task_priority": "URGENT"}}
    assert api.post("/crm/v3/objects/tasks", json=bad).status_code == 400
    stranger = {**task, "properties": {**task["properties"], "hubspot_owner_id": "1"}}
    assert api.post("/crm/v3/objects/tasks", json=stranger).status_code == 400
    assert [o["email"] for o in api.get("/crm/v3/owners").json()["results"]] == ["dana@bank.example"]
    assert len(fake.tasks(contact)) == 1


def test_batch_endpoints_limit_inputs_to_100(fake: FakeHubSpot, api: httpx.Client) -> None:
    inputs = [{"properties": {"email": f"b{n}@x.example"}} for n in range(101)]
    assert api.post("/crm/v3/objects/contacts/batch/create", json={"inputs": inputs}).status_code == 400
    made = api.post("/crm/v3/objects/contacts/batch/create", json={"inputs": inputs[:100]})
    assert made.status_code == 201 and len(made.json()["results"]) == 100
    ids = [{"id": r["id"]} for r in made.json()["results"][:2]] + [{"id": "424242"}]
    read = api.post("/crm/v3/objects/contacts/batch/read", json={"inputs": ids, "properties": ["email"]})
    assert read.status_code == 207 and len(read.json()["results"]) == 2 and read.json()["numErrors"] == 1


def test_a_contact_property_is_created_once(api: httpx.Client) -> None:
    definition = {"name": "upswing_score", "label": "Score", "type": "number", "fieldType": "number",
                  "groupName": "contactinformation"}
    assert api.post("/crm/v3/properties/contacts", json=definition).status_code == 201
    again = api.post("/crm/v3/properties/contacts", json=definition)
    assert again.status_code == 409 and again.json()["status"] == "error"
    assert api.post("/crm/v3/properties/contacts", json={**definition, "name": "email"}).status_code == 409


def test_search_has_its_own_lower_limit() -> None:
    with FakeHubSpot(access_token=TOKEN, search_per_s=2) as url, \
            httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}) as api:
        answers = [api.post("/crm/v3/objects/contacts/search", json={}) for _ in range(4)]
        assert api.get("/crm/v3/owners").status_code == 200  # other endpoints are not held back
    limited = [a for a in answers if a.status_code == 429]
    assert limited
    body = limited[0].json()
    assert (body["errorType"], body["policyName"], body["status"]) == ("RATE_LIMIT", "SECONDLY", "error")
    assert "retry-after" not in limited[0].headers


def test_the_ten_second_burst_limit() -> None:
    with FakeHubSpot(access_token=TOKEN, burst_max=3) as url, \
            httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}) as api:
        answers = [api.get("/crm/v3/owners") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[2].headers["x-hubspot-ratelimit-remaining"] == "0"
    assert answers[3].json()["policyName"] == "TEN_SECONDLY_ROLLING"


def test_an_injected_429_carries_hubspots_headers(fake: FakeHubSpot, api: httpx.Client) -> None:
    fake.inject(SEARCH_ROUTE, FakeHubSpot.rate_limited("DAILY", retry_after="5"))
    answer = api.post("/crm/v3/objects/contacts/search", json={})
    assert answer.status_code == 429 and answer.headers["retry-after"] == "5"
    assert answer.headers["x-hubspot-ratelimit-daily-remaining"] == "0" and answer.json()["policyName"] == "DAILY"
    assert api.post("/crm/v3/objects/contacts/search", json={}).status_code == 200


def test_oauth_code_with_pkce_then_refresh(fake: FakeHubSpot) -> None:
    verifier = "a-long-random-code-verifier-0123456789-abcdefghijklmnop"
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    redirect = "https://upswing.example/oauth/hubspot"
    form = {"grant_type": "authorization_code", "client_id": fake.client_id, "client_secret": fake.client_secret,
            "redirect_uri": redirect}
    token_url = f"{fake.url}/oauth/v1/token"
    wrong = httpx.post(token_url, data={**form, "code": fake.authorize(redirect, code_challenge=challenge),
                                        "code_verifier": "not-it"})
    assert wrong.status_code == 400 and wrong.json()["status"] == "BAD_AUTH_CODE"
    assert httpx.post(token_url, json={**form, "code": fake.authorize(redirect)}).status_code == 400  # not a form
    code = fake.authorize(redirect, code_challenge=challenge)
    tokens = httpx.post(token_url, data={**form, "code": code, "code_verifier": verifier}).json()
    assert set(tokens) >= {"access_token", "refresh_token", "expires_in", "token_type"} and tokens["expires_in"] > 0
    assert httpx.post(token_url, data={**form, "code": code, "code_verifier": verifier}).status_code == 400  # once
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert httpx.get(f"{fake.url}/crm/v3/owners", headers=headers).status_code == 200
    fake.expire_access_tokens()
    expired = httpx.get(f"{fake.url}/crm/v3/owners", headers=headers)
    assert expired.status_code == 401 and expired.json()["category"] == "EXPIRED_AUTHENTICATION"
    refreshed = httpx.post(token_url, data={"grant_type": "refresh_token", "client_id": fake.client_id,
                                            "client_secret": fake.client_secret,
                                            "refresh_token": tokens["refresh_token"]}).json()
    assert httpx.get(f"{fake.url}/crm/v3/owners",
                     headers={"Authorization": f"Bearer {refreshed['access_token']}"}).status_code == 200
    bad = httpx.post(token_url, data={"grant_type": "refresh_token", "client_id": fake.client_id,
                                      "client_secret": "wrong", "refresh_token": tokens["refresh_token"]})
    assert bad.status_code == 400 and bad.json()["status"] == "BAD_CLIENT_SECRET"


class _Receiver(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.got: list[Request] = []
        self.arrived = threading.Event()
        self.add_route("POST", r"^/hooks/hubspot$", "hook", self._take)

    def _take(self, request: Request) -> Reply:
        self.got.append(request)
        self.arrived.set()
        return Reply.json({}, 204)


def test_a_person_working_in_hubspot_sends_signed_webhooks(fake: FakeHubSpot) -> None:
    contact = fake.seed_contact(email="a@x.example")
    owner = fake.add_owner("lee@bank.example")
    receiver = _Receiver()
    with receiver as url:
        receiver_url = f"{url}/hooks/hubspot"
        fake.webhook_target = receiver_url
        answer = fake.change_owner(contact, owner)
        assert isinstance(answer, httpx.Response) and answer.status_code == 204
    [request] = receiver.got
    assert [(w.url, status) for w, status in fake.deliveries] == [(receiver_url, 204)]
    assert fake.contact(contact)["hubspot_owner_id"] == owner
    stamp = request.headers["x-hubspot-request-timestamp"]
    expected = base64.b64encode(hmac.new(b"shh", b"POST" + receiver_url.encode() + request.body + stamp.encode(),
                                         hashlib.sha256).digest()).decode()
    assert request.headers["x-hubspot-signature-v3"] == expected
    [event] = request.json()
    assert {"eventId", "subscriptionId", "portalId", "appId", "occurredAt", "subscriptionType", "attemptNumber",
            "objectId", "changeSource", "propertyName", "propertyValue"} <= set(event)
    assert (event["subscriptionType"], event["objectId"], event["propertyValue"]) == ("contact.propertyChange",
                                                                                      int(contact), owner)


def test_api_writes_to_subscribed_properties_queue_echo_events(fake: FakeHubSpot, api: httpx.Client) -> None:
    owner = fake.add_owner("dana@bank.example")
    contact = api.post("/crm/v3/objects/contacts", json={"properties": {"email": "e@x.example",
                                                                         "hubspot_owner_id": owner}}).json()
    api.patch(f"/crm/v3/objects/contacts/{contact['id']}", json={"properties": {"firstname": "E"}})  # not subscribed
    [event] = fake.pending_events()
    assert (event["changeSource"], event["sourceId"], event["propertyName"]) == ("INTEGRATION", str(fake.app_id),
                                                                                 "hubspot_owner_id")
