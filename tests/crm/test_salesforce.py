"""The Salesforce connector against the Salesforce fake (reference §5b): OAuth (JWT bearer, client credentials on
My Domain), upserts by external id, composite batches, SOQL paging, polling with echo suppression, API budget."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from upswing.crm.connector import ChangeKind, CrmError, LeadRecord, RateLimited, SignalPush, SignalRecord
from upswing.crm.connectors import connector_for
from upswing.crm.connectors.salesforce import SalesforceConnector, SalesforceError
from upswing.fakes.salesforce import (
    COMPOSITE_ROUTE,
    DEFAULT_CUSTOM_FIELDS,
    JWT_GRANT,
    QUERY_MORE_ROUTE,
    QUERY_ROUTE,
    TOKEN_ROUTE,
    FakeSalesforce,
)
from upswing.fakes.server import Fault

CONSUMER_KEY = "3MVG9-test-key"
SECRET = "test-secret"
USERNAME = "upswing@acme.example"


def _pem_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


@pytest.fixture(scope="module")
def keys() -> tuple[str, str]:
    return _pem_pair()


@pytest.fixture
def fake(keys: tuple[str, str]) -> Iterator[FakeSalesforce]:
    server = FakeSalesforce(consumer_key=CONSUMER_KEY, consumer_secret=SECRET, jwt_public_key=keys[1],
                            username=USERNAME)
    with server:
        yield server


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10.0, trust_env=False) as client:
        yield client


Make = Callable[..., SalesforceConnector]


@pytest.fixture
def make(fake: FakeSalesforce, http: httpx.Client, keys: tuple[str, str]) -> Make:
    def build(**overrides: Any) -> SalesforceConnector:
        config: dict[str, Any] = {"auth": "client_credentials", "login_url": fake.my_domain_url,
                                  "client_id": CONSUMER_KEY, "client_secret": SECRET}
        if overrides.get("auth") == "jwt_bearer":
            config = {"auth": "jwt_bearer", "login_url": fake.login_url, "client_id": CONSUMER_KEY,
                      "username": USERNAME, "private_key": keys[0], "audience": "https://login.salesforce.com"}
        config.update(overrides)
        return SalesforceConnector(config, http)
    return build


def lead(n: int = 0, **changes: Any) -> LeadRecord:
    values: dict[str, Any] = {
        "lead_id": uuid.UUID(int=1000 + n), "external_id": f"ACC-{n}", "first_name": "Dana", "last_name": f"Lee{n}",
        "email": f"dana{n}@example.com", "properties": {"upswing_score": "82", "upswing_priority": "high"}}
    values.update(changes)
    return LeadRecord(**values)


def signal(n: int = 0, lead_n: int = 0, **changes: Any) -> SignalRecord:
    values: dict[str, Any] = {
        "signal_id": uuid.UUID(int=5000 + n), "lead_id": uuid.UUID(int=1000 + lead_n), "type": "new_job",
        "priority": "high", "score": 82.0, "summary": f"New job: Data Analyst at HubSpot ({n})",
        "detail": "Evidence: profile headline changed.", "detected_at": datetime(2026, 3, 1, tzinfo=UTC),
        "due_at": datetime(2026, 3, 4, 9, tzinfo=UTC), "make_task": True}
    values.update(changes)
    return SignalRecord(**values)


def data_calls(fake: FakeSalesforce) -> int:
    return len([r for r in fake.requests if r.path.startswith("/services/data/")])


# ---- OAuth


def test_registered_under_its_system() -> None:
    assert connector_for("salesforce") is SalesforceConnector


def test_jwt_bearer_assertion_is_verified_and_gives_the_org_and_user(make: Make, fake: FakeSalesforce) -> None:
    info = make(auth="jwt_bearer").connect()
    assert (info["org_id"], info["user_id"]) == (fake.org_id, fake.integration_user_id)
    assert info["instance_url"] == fake.my_domain_url
    [token_request] = fake.requests_to(TOKEN_ROUTE)
    form = parse_qs(token_request.body.decode())
    assert form["grant_type"] == [JWT_GRANT]
    claims = jwt.decode(form["assertion"][0], options={"verify_signature": False})
    assert (claims["iss"], claims["sub"], claims["aud"]) == (CONSUMER_KEY, USERNAME, "https://login.salesforce.com")
    assert 0 < claims["exp"] - datetime.now(UTC).timestamp() <= 180
    # the data calls carry the token the fake issued
    assert all(r.headers["authorization"].startswith("Bearer 00D!") for r in fake.requests_to(QUERY_ROUTE))


@pytest.mark.parametrize(("overrides", "description"), [
    ({"jwt_ttl_s": -60}, "expired authorization code"),
    ({"jwt_ttl_s": 3600}, "invalid assertion"),  # exp more than 3 minutes ahead
    ({"private_key": "other"}, "invalid assertion"),  # signed with another key (replaced below)
    ({"audience": "https://evil.example"}, "audience is invalid"),
])
def test_a_bad_jwt_assertion_is_refused_with_invalid_grant(make: Make, fake: FakeSalesforce,
                                                           overrides: dict[str, Any], description: str) -> None:
    if overrides.get("private_key") == "other":
        overrides = {"private_key": _pem_pair()[0]}
    with pytest.raises(SalesforceError) as caught:
        make(auth="jwt_bearer", **overrides).connect()
    assert caught.value.code == "invalid_grant"
    assert description in str(caught.value)
    assert data_calls(fake) == 0


def test_client_credentials_are_refused_off_my_domain(make: Make, fake: FakeSalesforce) -> None:
    with pytest.raises(SalesforceError) as caught:
        make(login_url=fake.login_url).connect()  # 127.0.0.1 plays login.salesforce.com
    assert caught.value.code == "invalid_grant"
    assert "not supported on this domain" in str(caught.value)
    assert make().connect()["user_id"] == fake.integration_user_id  # the same credentials on My Domain work


def test_client_credentials_against_login_salesforce_com_are_refused_before_any_call() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"no request expected, got {request.url}")
    with httpx.Client(transport=httpx.MockTransport(refuse)) as client:
        connector = SalesforceConnector({"auth": "client_credentials", "login_url": "https://login.salesforce.com",
                                         "client_id": "k", "client_secret": "s"}, client)
        with pytest.raises(CrmError, match="My Domain"):
            connector.connect()


def test_wrong_client_secret_is_refused(make: Make) -> None:
    with pytest.raises(SalesforceError) as caught:
        make(client_secret="nope").connect()
    assert caught.value.code == "invalid_client"


def test_an_expired_session_gets_a_new_token_once(make: Make, fake: FakeSalesforce) -> None:
    connector = make()
    connector.upsert_lead(lead())
    fake.revoke_tokens()
    connector.upsert_lead(lead(first_name="Dana-Marie"))
    assert len(fake.requests_to(TOKEN_ROUTE)) == 2
    assert [record["FirstName"] for record in fake.leads] == ["Dana-Marie"]


def test_connect_reports_a_missing_custom_field(http: httpx.Client) -> None:
    server = FakeSalesforce(consumer_key=CONSUMER_KEY, consumer_secret=SECRET,
                            custom_fields={"Lead": DEFAULT_CUSTOM_FIELDS["Lead"], "Task": set()})
    with server:
        connector = SalesforceConnector({"login_url": server.my_domain_url, "client_id": CONSUMER_KEY,
                                         "client_secret": SECRET}, http)
        with pytest.raises(SalesforceError) as caught:
            connector.connect()
    assert caught.value.code == "INVALID_FIELD"
    assert "Upswing_Signal_Id__c" in str(caught.value)


# ---- leads and tasks


def test_upserting_a_lead_twice_makes_one_lead(make: Make, fake: FakeSalesforce) -> None:
    connector = make()
    first = connector.upsert_lead(lead(owner_remote_id=fake.human_user_id))
    second = connector.upsert_lead(lead(properties={"upswing_score": "90"}))
    assert first == second
    [record] = fake.leads
    assert record["Id"] == first
    assert record["Upswing_Lead_Id__c"] == str(uuid.UUID(int=1000))
    assert (record["LastName"], record["Company"], record["Upswing_Account_Id__c"]) == ("Lee0", "[not provided]",
                                                                                         "ACC-0")
    assert (record["Upswing_Score__c"], record["Upswing_Priority__c"]) == ("90", "high")
    assert record["OwnerId"] == fake.human_user_id
    # both calls were upserts by our external id: nothing looked the lead up first
    assert [r.method for r in fake.requests if r.path.startswith("/services/data/")] == ["PATCH", "PATCH"]


def test_several_leads_with_our_external_id_are_an_error(make: Make, fake: FakeSalesforce) -> None:
    for _ in range(2):
        fake.add_record("Lead", {"LastName": "Twin", "Company": "X", "Upswing_Lead_Id__c": str(uuid.UUID(int=1000))})
    with pytest.raises(SalesforceError) as caught:
        make().upsert_lead(lead())
    assert caught.value.code == "MULTIPLE_CHOICES"
    assert len(fake.leads) == 2


def test_a_lead_without_last_name_is_a_record_error(make: Make, fake: FakeSalesforce) -> None:
    with pytest.raises(SalesforceError) as caught:
        make().upsert_lead(lead(last_name=""))
    assert (caught.value.code, caught.value.fields) == ("REQUIRED_FIELD_MISSING", ["LastName"])
    assert fake.leads == []


def test_pushing_the_same_signal_twice_makes_one_task(make: Make, fake: FakeSalesforce) -> None:
    connector = make()
    remote = connector.upsert_lead(lead())
    first = connector.push_signal(remote, signal(owner_remote_id=fake.human_user_id))
    fake.complete_task(str(first.task_id))
    second = connector.push_signal(remote, signal(owner_remote_id=fake.human_user_id))
    assert first == second == SignalPush(remote_lead_id=remote, task_id=first.task_id)
    [task] = fake.tasks_for(remote)
    assert task["Upswing_Signal_Id__c"] == str(uuid.UUID(int=5000))
    assert (task["Subject"], task["Priority"], task["ActivityDate"]) == ("New job: Data Analyst at HubSpot (0)",
                                                                         "High", "2026-03-04")
    assert task["Description"] == "Evidence: profile headline changed."
    assert task["OwnerId"] == fake.human_user_id
    assert task["Status"] == "Completed"  # the repeat did not reopen what someone completed


def test_read_lead_and_signal_ids_on(make: Make, fake: FakeSalesforce) -> None:
    connector = make()
    remote = connector.upsert_lead(lead())
    connector.push_signal(remote, signal(1))
    connector.push_signal(remote, signal(2, priority="low"))
    fake.add_record("Task", {"WhoId": remote, "Subject": "Call back"})  # someone's own task: not ours
    found = connector.read_lead(str(uuid.UUID(int=1000)))
    assert found is not None
    assert (found["Id"], found["Upswing_Account_Id__c"], found["Status"]) == (remote, "ACC-0", "Open - Not Contacted")
    assert connector.read_lead(str(uuid.uuid4())) is None
    assert connector.signal_ids_on([remote]) == {uuid.UUID(int=5001), uuid.UUID(int=5002)}


def test_signal_ids_on_many_records_is_one_query_per_hundred(make: Make, fake: FakeSalesforce) -> None:
    connector = make()
    remotes = [connector.upsert_lead(lead(n)) for n in range(3)]
    for n, remote in enumerate(remotes):
        connector.push_signal(remote, signal(n, lead_n=n))
    other = connector.upsert_lead(lead(9))
    connector.push_signal(other, signal(9, lead_n=9))  # a record not asked about
    before = len(fake.requests_to(QUERY_ROUTE))
    assert connector.signal_ids_on(remotes) == {uuid.UUID(int=5000 + n) for n in range(3)}
    assert len(fake.requests_to(QUERY_ROUTE)) == before + 1
    with pytest.raises(CrmError):
        connector.signal_ids_on(["x' OR Id != '"])


# ---- composite


def test_a_batch_of_60_signals_takes_five_composite_calls(make: Make, fake: FakeSalesforce) -> None:
    connector = make()
    items = [(lead(n % 20), signal(n, n % 20)) for n in range(60)]
    results = connector.push_signals(items)
    assert all(isinstance(result, SignalPush) for result in results)
    assert len(fake.leads) == 20 and len(fake.tasks) == 60
    by_lead = {r["Upswing_Lead_Id__c"]: r["Id"] for r in fake.leads}
    for (item_lead, item_signal), result in zip(items, results, strict=True):
        assert isinstance(result, SignalPush)
        assert result.remote_lead_id == by_lead[str(item_lead.lead_id)]
        task = fake.record("Task", str(result.task_id))
        assert task is not None
        assert (task["WhoId"], task["Upswing_Signal_Id__c"]) == (result.remote_lead_id, str(item_signal.signal_id))
    composites = fake.requests_to(COMPOSITE_ROUTE)
    assert len(composites) == math.ceil(60 / 12) == data_calls(fake) == fake.api_used
    assert all(len(r.json()["compositeRequest"]) <= 25 for r in composites)
    # a repeat of the whole batch doubles nothing
    assert connector.push_signals(items) == results
    assert len(fake.leads) == 20 and len(fake.tasks) == 60


def test_a_record_error_in_a_composite_fails_that_item_only(make: Make, fake: FakeSalesforce) -> None:
    items = [(lead(n), signal(n, n)) for n in range(5)]
    items[1] = (lead(1, last_name=""), signal(1, 1))  # the lead is refused: its task never gets a WhoId
    items[3] = (lead(3), signal(3, 3, owner_remote_id="005000000000000AAA"))  # the task is refused
    results = make().push_signals(items)
    assert [type(result).__name__ for result in results] == ["SignalPush", "SalesforceError", "SignalPush",
                                                             "SalesforceError", "SignalPush"]
    assert isinstance(results[1], SalesforceError) and results[1].code == "REQUIRED_FIELD_MISSING"
    assert isinstance(results[3], SalesforceError) and results[3].code == "INVALID_CROSS_REFERENCE_KEY"
    assert sorted(t["Upswing_Signal_Id__c"] for t in fake.tasks) == [str(uuid.UUID(int=5000 + n)) for n in (0, 2, 4)]
    assert len(fake.requests_to(COMPOSITE_ROUTE)) == 1


def test_the_fake_composite_resolves_references_and_rolls_back_all_or_none(fake: FakeSalesforce,
                                                                          make: Make) -> None:
    connector = make()
    connector.connect()
    base = "/services/data/v59.0/sobjects"
    requests = [{"method": "POST", "url": f"{base}/Lead", "referenceId": "newLead",
                 "body": {"LastName": "Ng", "Company": "Acme"}},
                {"method": "POST", "url": f"{base}/Task", "referenceId": "newTask",
                 "body": {"WhoId": "@{newLead.id}", "Subject": "Call"}},
                {"method": "POST", "url": f"{base}/Lead", "referenceId": "badLead", "body": {"LastName": "X"}}]
    answer = connector._request("POST", "/services/data/v59.0/composite",
                                json={"allOrNone": True, "compositeRequest": requests})
    assert answer.status_code == 200
    codes = [(r["referenceId"], r["httpStatusCode"], r["body"][0]["errorCode"])
             for r in answer.json()["compositeResponse"]]
    assert codes == [("newLead", 400, "PROCESSING_HALTED"), ("newTask", 400, "PROCESSING_HALTED"),
                     ("badLead", 400, "REQUIRED_FIELD_MISSING")]
    assert fake.leads == [] and fake.tasks == []
    answer = connector._request("POST", "/services/data/v59.0/composite",
                                json={"allOrNone": False, "compositeRequest": requests[:2]})
    [made_lead, made_task] = answer.json()["compositeResponse"]
    assert fake.tasks[0]["WhoId"] == made_lead["body"]["id"] and made_task["httpStatusCode"] == 201
    too_many = [{"method": "GET", "url": f"{base}/Lead/x{n}", "referenceId": f"r{n}"} for n in range(26)]
    answer = connector._request("POST", "/services/data/v59.0/composite", json={"compositeRequest": too_many})
    assert answer.status_code == 400 and answer.json()[0]["errorCode"] == "LIMIT_EXCEEDED"


# ---- SOQL and pulling


def test_soql_paging_is_followed_to_the_end(make: Make, fake: FakeSalesforce) -> None:
    fake.page_size = 3
    connector = make()
    remote = connector.upsert_lead(lead())
    connector.push_signals([(lead(), signal(n)) for n in range(8)])
    assert connector.signal_ids_on([remote]) == {uuid.UUID(int=5000 + n) for n in range(8)}
    assert len(fake.requests_to(QUERY_ROUTE)) == 1
    more = fake.requests_to(QUERY_MORE_ROUTE)
    assert [r.path.rsplit("-", 1)[1] for r in more] == ["3", "6"]


def test_pull_returns_a_completed_task_and_an_owner_change_once_and_flags_our_own_edits(
        make: Make, fake: FakeSalesforce) -> None:
    connector = make()
    changes, cursor = connector.pull_changes(None)
    assert changes == [] and cursor is not None
    fake.advance(2)
    remote = connector.upsert_lead(lead(0))
    other = connector.upsert_lead(lead(1))  # only we touch this one
    push = connector.push_signal(remote, signal(0))
    connector.push_signal(other, signal(1))  # an open task: not a change to pull
    fake.advance(2)
    fake.complete_task(str(push.task_id))
    fake.change_owner(remote, fake.human_user_id)

    changes, cursor = connector.pull_changes(cursor)
    theirs = [c for c in changes if not c.by_us]
    ours = [c for c in changes if c.by_us]
    assert [(c.kind, c.remote_lead_id, c.signal_id, c.value) for c in theirs if c.kind is ChangeKind.TASK_COMPLETED] \
        == [(ChangeKind.TASK_COMPLETED, remote, uuid.UUID(int=5000), "Completed")]
    owner = [c for c in theirs if c.field == "OwnerId"]
    assert [(c.remote_lead_id, c.lead_id, c.value) for c in owner] == [(remote, uuid.UUID(int=1000),
                                                                        fake.human_user_id)]
    assert {c.remote_lead_id for c in ours} == {other}  # our upsert of the other lead is an echo
    assert len({c.event_id for c in changes}) == len(changes)
    assert all(c.changed_at is not None for c in changes)

    again, cursor = connector.pull_changes(cursor)
    assert again == []  # each change once
    fake.advance(2)
    connector.upsert_lead(lead(0, properties={"upswing_score": "95"}))  # our own edit
    echoes, cursor = connector.pull_changes(cursor)
    assert echoes and all(c.by_us and c.remote_lead_id == remote for c in echoes)


def test_the_cursor_keeps_each_object_apart(make: Make, fake: FakeSalesforce) -> None:
    connector = make()
    _, cursor = connector.pull_changes(None)
    fake.advance(2)
    remote = connector.upsert_lead(lead())
    push = connector.push_signal(remote, signal())
    fake.advance(2)
    fake.change_owner(remote, fake.human_user_id)
    _, cursor = connector.pull_changes(cursor)
    assert cursor is not None
    task_cursor, lead_cursor = (part.split("=", 1)[1] for part in cursor.split(";"))
    assert task_cursor < lead_cursor  # no task changed yet: its cursor did not jump to the lead's change
    fake.complete_task(str(push.task_id))  # at the lead change's second, after it
    changes, _ = connector.pull_changes(f"Task={task_cursor};Lead={lead_cursor}")
    assert [c.kind for c in changes] == [ChangeKind.TASK_COMPLETED]
    with pytest.raises(CrmError, match="cursor"):
        connector.pull_changes("2026-01-01' OR Id != null")


# ---- budget and faults


def test_limit_info_is_tracked_and_a_spent_budget_is_rate_limited(make: Make, fake: FakeSalesforce) -> None:
    fake.daily_limit = 3
    connector = make()
    connector.upsert_lead(lead(0))
    assert (connector.usage.daily_remaining, connector.usage.daily_limit) == (2, 3)
    connector.upsert_lead(lead(1))
    connector.upsert_lead(lead(2))
    assert connector.usage.daily_remaining == 0
    with pytest.raises(RateLimited) as caught:
        connector.upsert_lead(lead(3))
    now = datetime.now(UTC)
    next_day = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    assert abs(caught.value.retry_after - (next_day - now).total_seconds()) < 5
    with pytest.raises(RateLimited):
        connector.push_signals([(lead(4), signal(4, 4))])
    assert len(fake.leads) == 3


def test_the_fake_sends_limit_info_on_every_answer(fake: FakeSalesforce, http: httpx.Client) -> None:
    unauthorized = http.get(f"{fake.my_domain_url}/services/data/v59.0/sobjects/Lead/00Q000000000000AAA",
                            headers={"Authorization": "Bearer nope"})
    assert unauthorized.status_code == 401
    assert unauthorized.json() == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    token = http.post(f"{fake.my_domain_url}/services/oauth2/token", data={"grant_type": "client_credentials"},
                      auth=(CONSUMER_KEY, SECRET)).json()
    assert token["token_type"] == "Bearer" and token["id"].endswith(f"/id/{fake.org_id}/{fake.integration_user_id}")
    missing = http.get(f"{token['instance_url']}/services/data/v59.0/sobjects/Lead/00Q000000000000AAA",
                       headers={"Authorization": f"Bearer {token['access_token']}"})
    assert missing.status_code == 404 and missing.json()[0]["errorCode"] == "NOT_FOUND"
    assert missing.headers["Sforce-Limit-Info"] == f"api-usage=1/{fake.daily_limit}"


def test_a_429_is_rate_limited_and_a_5xx_is_retried(make: Make, fake: FakeSalesforce) -> None:
    connector = make()
    fake.inject(COMPOSITE_ROUTE, FakeSalesforce.rate_limited(retry_after="7"))
    with pytest.raises(RateLimited) as caught:
        connector.push_signals([(lead(), signal())])
    assert caught.value.retry_after == 7
    fake.inject(COMPOSITE_ROUTE, Fault.server_error(503), times=2)
    [result] = connector.push_signals([(lead(), signal())])
    assert isinstance(result, SignalPush)
    assert len(fake.requests_to(COMPOSITE_ROUTE)) == 4
    fake.inject(COMPOSITE_ROUTE, Fault.server_error(500), times=3)
    [failed] = connector.push_signals([(lead(), signal())])
    assert isinstance(failed, SalesforceError) and failed.status == 500
