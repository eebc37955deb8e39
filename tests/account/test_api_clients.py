"""Machine clients: registration, the client-credentials grant (secret and private_key_jwt), scopes on the
existing endpoints, rotation, disabling, allowed addresses, rate limits and audit."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from factories import auth, make_lead, make_portfolio, make_signal, make_user
from upswing.account import clients
from upswing.account.models import ApiClient, Role
from upswing.account.ratelimit import TokenBuckets
from upswing.account.security import create_client_token
from upswing.audit.models import AuditEntry
from upswing.core.db import utcnow

TOKEN_URL = "http://testserver/api/v1/oauth/token"


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@pytest.fixture
def admin_headers(app: Any, db_session: Session) -> dict[str, str]:
    admin = make_user(db_session, Role.ADMIN)
    db_session.commit()
    return auth(app, admin)


def _register(client: Any, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    body.setdefault("name", f"crm-{uuid.uuid4().hex[:8]}")
    body.setdefault("scopes", ["leads:read"])
    response = client.post("/api/v1/api-clients", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def _token(client: Any, registered: dict[str, Any], scope: str | None = None) -> str:
    data = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
    response = client.post("/api/v1/oauth/token", data=data,
                           headers=_basic(registered["id"], registered["client_secret"]))
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _assertion(key: Any, client_id: str, *, aud: str = TOKEN_URL, lifetime: int = 60, jti: str | None = None,
               alg: str = "RS256", kid: str | None = None, **claims: Any) -> str:
    now = int(time.time())
    payload = {"iss": client_id, "sub": client_id, "aud": aud, "iat": now, "exp": now + lifetime,
               "jti": jti or uuid.uuid4().hex, **claims}
    return jwt.encode(payload, key, algorithm=alg, headers={"kid": kid} if kid else None)


def _with_assertion(client: Any, assertion: str, **data: str) -> Any:
    return client.post("/api/v1/oauth/token", data={
        "grant_type": "client_credentials", "client_assertion_type": clients.ASSERTION_TYPE,
        "client_assertion": assertion, **data})


def _refused(response: Any, error: str = "invalid_client", status: int = 401) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error and body["error_description"]


def test_secret_is_shown_once_and_stored_as_a_keyed_hash(app: Any, client: Any, db_session: Session,
                                                         admin_headers: dict[str, str]) -> None:
    registered = _register(client, admin_headers, scopes=["signals:read", "leads:read"],
                           allowed_ips=["10.0.0.0/8", "192.0.2.7"])
    secret = registered["client_secret"]
    assert secret.startswith("upsw_") and len(secret) > 40
    assert registered["scopes"] == ["leads:read", "signals:read"]
    assert registered["allowed_ips"] == ["10.0.0.0/8", "192.0.2.7/32"]
    assert registered["auth_method"] == "client_secret"

    shown = client.get(f"/api/v1/api-clients/{registered['id']}", headers=admin_headers).json()
    assert "client_secret" not in shown
    assert secret not in json.dumps(client.get("/api/v1/api-clients", headers=admin_headers).json())
    row = db_session.get(ApiClient, uuid.UUID(registered["id"]))
    assert row is not None and row.secret_hash == clients.hash_secret(app.state.settings, secret)
    assert secret not in (row.secret_hash or "")
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "api_client.create"))
    assert entry is not None and entry.entity_id == registered["id"] and secret not in json.dumps(entry.details)


def test_token_with_secret_in_basic_auth_or_in_the_form(client: Any, db_session: Session,
                                                         admin_headers: dict[str, str]) -> None:
    registered = _register(client, admin_headers, scopes=["leads:read"])
    basic = client.post("/api/v1/oauth/token", data={"grant_type": "client_credentials"},
                        headers=_basic(registered["id"], registered["client_secret"]))
    assert basic.status_code == 200, basic.text
    body = basic.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "leads:read" and body["expires_in"] == 15 * 60
    assert basic.headers["Cache-Control"] == "no-store"
    posted = client.post("/api/v1/oauth/token", data={
        "grant_type": "client_credentials", "client_id": registered["id"],
        "client_secret": registered["client_secret"]})
    assert posted.status_code == 200, posted.text
    for token in (body["access_token"], posted.json()["access_token"]):
        assert client.get("/api/v1/leads", headers=_bearer(token)).status_code == 200
    # A client token is not a person's: it cannot refresh, nor reach routes not open to clients.
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": body["access_token"]}).status_code == 401
    me = client.get("/api/v1/users/me", headers=_bearer(body["access_token"]))
    assert me.status_code == 403 and me.json()["error"] == "insufficient_scope"


def test_private_key_jwt(client: Any, admin_headers: dict[str, str], rsa_key: rsa.RSAPrivateKey) -> None:
    registered = _register(client, admin_headers, public_key=_pem(rsa_key), scopes=["signals:read"])
    assert registered["client_secret"] is None and registered["auth_method"] == "private_key_jwt"
    client_id = registered["id"]

    assertion = _assertion(rsa_key, client_id)
    issued = _with_assertion(client, assertion, client_id=client_id)
    assert issued.status_code == 200, issued.text
    assert client.get("/api/v1/signals", headers=_bearer(issued.json()["access_token"])).status_code == 200

    _refused(_with_assertion(client, assertion))  # the same jti again
    _refused(_with_assertion(client, _assertion(rsa_key, client_id, lifetime=-120)))  # expired
    _refused(_with_assertion(client, _assertion(rsa_key, client_id, lifetime=3600)))  # valid far too long
    _refused(_with_assertion(client, _assertion(rsa_key, client_id, aud="https://elsewhere.example/token")))
    _refused(_with_assertion(client, _assertion(rsa_key, client_id, sub=str(uuid.uuid4()))))
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _refused(_with_assertion(client, _assertion(other_key, client_id)))  # not its key
    _refused(_with_assertion(client, _assertion(rsa_key, str(uuid.uuid4()))))  # unknown client
    hs256 = jwt.encode({"iss": client_id, "sub": client_id, "aud": TOKEN_URL, "exp": int(time.time()) + 60,
                        "jti": "x"}, "k" * 32, algorithm="HS256")
    _refused(_with_assertion(client, hs256))  # no algorithm confusion
    _refused(_with_assertion(client, _assertion(rsa_key, client_id), client_id=str(uuid.uuid4())))
    # The key client has no secret to authenticate with.
    _refused(client.post("/api/v1/oauth/token", data={"grant_type": "client_credentials"},
                         headers=_basic(client_id, "upsw_guess")))


def test_private_key_jwt_with_an_ec_key_in_a_jwk_set(client: Any, admin_headers: dict[str, str]) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    registered = _register(client, admin_headers, public_key=json.dumps({"keys": [{**jwk, "kid": "k1"}]}))
    response = _with_assertion(client, _assertion(key, registered["id"], alg="ES256", kid="k1"))
    assert response.status_code == 200, response.text
    _refused(_with_assertion(client, _assertion(key, registered["id"], alg="ES256", kid="k2")))
    # A private key is refused at registration.
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    assert client.post("/api/v1/api-clients", headers=admin_headers,
                       json={"name": "leaky", "scopes": ["leads:read"], "public_key": private}).status_code == 422


def test_bad_requests_and_credentials_are_refused(client: Any, admin_headers: dict[str, str]) -> None:
    registered = _register(client, admin_headers)
    grant = {"grant_type": "client_credentials"}
    _refused(client.post("/api/v1/oauth/token", data=grant, headers=_basic(registered["id"], "upsw_wrong")))
    _refused(client.post("/api/v1/oauth/token", data=grant, headers=_basic(str(uuid.uuid4()), "upsw_x")))
    _refused(client.post("/api/v1/oauth/token", data=grant, headers=_basic("not-a-uuid", "x")))
    _refused(client.post("/api/v1/oauth/token", data=grant, headers={"Authorization": "Basic !!!"}))
    unauthenticated = client.post("/api/v1/oauth/token", data=grant)
    _refused(unauthenticated)
    wrong = client.post("/api/v1/oauth/token", data=grant, headers=_basic(registered["id"], "upsw_wrong"))
    assert wrong.headers["WWW-Authenticate"].startswith("Basic")
    headers = _basic(registered["id"], registered["client_secret"])
    _refused(client.post("/api/v1/oauth/token", headers=headers), "invalid_request", 400)
    _refused(client.post("/api/v1/oauth/token", data={"grant_type": "password"}, headers=headers),
             "unsupported_grant_type", 400)
    _refused(client.post("/api/v1/oauth/token", headers=headers, data={
        **grant, "client_id": registered["id"], "client_secret": registered["client_secret"]}),
        "invalid_request", 400)  # two authentication methods at once


def test_requested_scope_narrows_and_unregistered_scope_is_refused(client: Any, db_session: Session,
                                                                   admin_headers: dict[str, str]) -> None:
    make_signal(db_session, make_lead(db_session))
    db_session.commit()
    registered = _register(client, admin_headers, scopes=["leads:read", "signals:read"])
    headers = _basic(registered["id"], registered["client_secret"])
    narrowed = client.post("/api/v1/oauth/token", data={"grant_type": "client_credentials", "scope": "leads:read"},
                           headers=headers)
    assert narrowed.json()["scope"] == "leads:read"
    token = narrowed.json()["access_token"]
    assert client.get("/api/v1/leads", headers=_bearer(token)).status_code == 200
    refused = client.get("/api/v1/signals", headers=_bearer(token))
    assert refused.status_code == 403 and refused.json()["error"] == "insufficient_scope"
    assert 'scope="signals:read"' in refused.headers["WWW-Authenticate"]
    everything = client.post("/api/v1/oauth/token", data={"grant_type": "client_credentials"}, headers=headers)
    assert everything.json()["scope"] == "leads:read signals:read"
    _refused(client.post("/api/v1/oauth/token", headers=headers,
                         data={"grant_type": "client_credentials", "scope": "leads:read leads:write"}),
             "invalid_scope", 400)
    # Taking a scope away from the client takes it from the tokens it holds.
    client.patch(f"/api/v1/api-clients/{registered['id']}", json={"scopes": ["leads:read"]}, headers=admin_headers)
    assert client.get("/api/v1/signals", headers=_bearer(everything.json()["access_token"])).status_code == 403


def test_client_reads_leads_and_needs_leads_write_to_change_one(client: Any, db_session: Session,
                                                                admin_headers: dict[str, str]) -> None:
    agent = make_user(db_session, Role.AGENT)
    lead = make_lead(db_session, make_portfolio(db_session), assignee_id=agent.id)
    db_session.commit()
    reader = _token(client, _register(client, admin_headers, scopes=["leads:read"]))
    listed = client.get("/api/v1/leads", headers=_bearer(reader))
    assert listed.status_code == 200 and str(lead.id) in {item["id"] for item in listed.json()["items"]}
    assert client.get(f"/api/v1/leads/{lead.id}", headers=_bearer(reader)).status_code == 200
    patch = client.patch(f"/api/v1/leads/{lead.id}", json={"status": "contacted"}, headers=_bearer(reader))
    assert patch.status_code == 403 and patch.json()["error"] == "insufficient_scope"
    assert 'error="insufficient_scope"' in patch.headers["WWW-Authenticate"]

    writer_client = _register(client, admin_headers, scopes=["leads:read", "leads:write"])
    writer = _token(client, writer_client)
    changed = client.patch(f"/api/v1/leads/{lead.id}", json={"status": "contacted"}, headers=_bearer(writer))
    assert changed.status_code == 200, changed.text
    assert changed.json()["status"] == "contacted"
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "lead.update",
                                                       AuditEntry.entity_id == str(lead.id)))
    assert entry is not None and entry.actor == f"user:client:{writer_client['id']}"


def test_every_call_is_audited_with_the_client(client: Any, db_session: Session,
                                               admin_headers: dict[str, str], us_daytime: Any) -> None:
    signal_id = make_signal(db_session, make_lead(db_session))
    db_session.commit()
    registered = _register(client, admin_headers, scopes=["signals:read", "signals:write", "leads:read"])
    actor = f"user:client:{registered['id']}"
    token = _token(client, registered)
    assert client.get("/api/v1/signals", headers=_bearer(token)).status_code == 200
    assert client.post(f"/api/v1/signals/{signal_id}/acknowledge", headers=_bearer(token)).status_code == 200
    assert client.post(f"/api/v1/signals/{signal_id}/outcome", json={"outcome": "promise_to_pay"},
                       headers=_bearer(token)).status_code == 403  # outcomes:write
    assert client.get("/api/v1/leads", headers=_bearer(token)).status_code == 200
    entries = {e.action: e for e in db_session.scalars(select(AuditEntry).where(AuditEntry.actor == actor))}
    assert {"api_client.token", "api_client.read", "signal.acknowledged", "lead.list"} <= set(entries), entries
    assert entries["api_client.read"].details["path"] == "/api/v1/signals"
    assert entries["api_client.token"].entity_id == registered["id"]


def test_rotated_secret_replaces_the_old_one(app: Any, client: Any, db_session: Session,
                                             admin_headers: dict[str, str]) -> None:
    registered = _register(client, admin_headers)
    before = create_client_token(app.state.settings, uuid.UUID(registered["id"]), ["leads:read"],
                                 now=utcnow() - timedelta(seconds=5))
    assert client.get("/api/v1/leads", headers=_bearer(before)).status_code == 200
    rotated = client.post(f"/api/v1/api-clients/{registered['id']}/rotate-secret", headers=admin_headers)
    assert rotated.status_code == 200
    new_secret = rotated.json()["client_secret"]
    assert new_secret != registered["client_secret"]
    _refused(client.post("/api/v1/oauth/token", data={"grant_type": "client_credentials"},
                         headers=_basic(registered["id"], registered["client_secret"])))
    assert client.get("/api/v1/leads", headers=_bearer(before)).status_code == 401  # tokens of the old secret
    assert client.get("/api/v1/leads", headers=_bearer(_token(client, {**registered, "client_secret": new_secret}))
                      ).status_code == 200
    assert db_session.scalar(select(AuditEntry.id).where(AuditEntry.action == "api_client.rotate_secret"))


def test_disabled_or_deleted_client_is_refused(client: Any, admin_headers: dict[str, str]) -> None:
    registered = _register(client, admin_headers)
    token = _token(client, registered)
    disabled = client.patch(f"/api/v1/api-clients/{registered['id']}", json={"is_active": False},
                            headers=admin_headers)
    assert disabled.status_code == 200 and disabled.json()["is_active"] is False
    _refused(client.post("/api/v1/oauth/token", data={"grant_type": "client_credentials"},
                         headers=_basic(registered["id"], registered["client_secret"])))
    refused = client.get("/api/v1/leads", headers=_bearer(token))
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_token"
    client.patch(f"/api/v1/api-clients/{registered['id']}", json={"is_active": True}, headers=admin_headers)
    assert client.get("/api/v1/leads", headers=_bearer(_token(client, registered))).status_code == 200
    assert client.delete(f"/api/v1/api-clients/{registered['id']}", headers=admin_headers).status_code == 204
    _refused(client.post("/api/v1/oauth/token", data={"grant_type": "client_credentials"},
                         headers=_basic(registered["id"], registered["client_secret"])))


@pytest.fixture
def client_from(app: Any) -> Iterator[Any]:
    opened: list[TestClient] = []

    def make(address: str) -> TestClient:
        test_client = TestClient(app, client=(address, 50000))
        opened.append(test_client)
        return test_client

    yield make
    for test_client in opened:
        test_client.close()


def test_allowed_addresses_are_enforced(client: Any, client_from: Any, admin_headers: dict[str, str]) -> None:
    registered = _register(client, admin_headers, allowed_ips=["203.0.113.0/24"])
    inside, outside = client_from("203.0.113.9"), client_from("198.51.100.1")
    _refused(outside.post("/api/v1/oauth/token", data={"grant_type": "client_credentials"},
                          headers=_basic(registered["id"], registered["client_secret"])))
    token = _token(inside, registered)
    assert inside.get("/api/v1/leads", headers=_bearer(token)).status_code == 200
    elsewhere = outside.get("/api/v1/leads", headers=_bearer(token))
    assert elsewhere.status_code == 401 and elsewhere.json()["error"] == "invalid_token"
    bad = client.post("/api/v1/api-clients", headers=admin_headers,
                      json={"name": "bad-ip", "scopes": ["leads:read"], "allowed_ips": ["10.0.0.1/8"]})
    assert bad.status_code == 422  # host bits set: say the network meant


def test_rate_limit_answers_429_with_headers(app: Any, client: Any, admin_headers: dict[str, str]) -> None:
    app.state.client_rate_limiter = TokenBuckets(rate_per_second=0.5, burst=2)
    token = _token(client, _register(client, admin_headers))
    first = client.get("/api/v1/leads", headers=_bearer(token))
    assert first.status_code == 200
    assert (first.headers["RateLimit-Limit"], first.headers["RateLimit-Remaining"]) == ("2", "1")
    assert client.get("/api/v1/leads", headers=_bearer(token)).headers["RateLimit-Remaining"] == "0"
    limited = client.get("/api/v1/leads", headers=_bearer(token))
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.headers["RateLimit-Limit"] == "2" and limited.headers["RateLimit-Remaining"] == "0"
    assert int(limited.headers["RateLimit-Reset"]) >= 1
    # Another client has its own bucket; people are not limited by it.
    assert client.get("/api/v1/leads", headers=_bearer(_token(client, _register(client, admin_headers)))
                      ).status_code == 200
    assert client.get("/api/v1/leads", headers=admin_headers).status_code == 200


def test_token_bucket_refills_at_its_rate() -> None:
    now = [100.0]
    buckets = TokenBuckets(rate_per_second=2, burst=3, clock=lambda: now[0])
    assert [buckets.take("a").allowed for _ in range(4)] == [True, True, True, False]
    refused = buckets.take("a")
    assert (refused.remaining, refused.retry_after, refused.reset) == (0, 1, 2)
    now[0] += 0.5  # one token back
    assert buckets.take("a").allowed and not buckets.take("a").allowed
    assert buckets.take("b").remaining == 2
    now[0] += 10
    assert buckets.take("a").remaining == 2  # never more than the burst


@pytest.mark.parametrize(("registered", "requested", "granted"), [
    (["leads:read", "signals:read"], None, ["leads:read", "signals:read"]),
    (["leads:read", "signals:read"], "  ", ["leads:read", "signals:read"]),
    (["leads:read", "signals:read"], "signals:read", ["signals:read"]),
    (["leads:read", "signals:read"], "signals:read signals:read", ["signals:read"]),
    (["leads:read"], "leads:read leads:write", None),
    (["leads:read"], "admin", None),
])
def test_granted_scopes(registered: list[str], requested: str | None, granted: list[str] | None) -> None:
    if granted is None:
        with pytest.raises(clients.OAuthError) as refused:
            clients.granted_scopes(registered, requested)
        assert refused.value.error == "invalid_scope"
    else:
        assert clients.granted_scopes(registered, requested) == granted


def test_address_allowed() -> None:
    assert clients.address_allowed([], "anything")
    assert clients.address_allowed(["10.0.0.0/8", "2001:db8::/32"], "10.1.2.3")
    assert clients.address_allowed(["2001:db8::/32"], "2001:db8::1")
    assert not clients.address_allowed(["10.0.0.0/8"], "192.0.2.1")
    assert not clients.address_allowed(["10.0.0.0/8"], "testclient")


def test_cli_creates_lists_rotates_and_disables(cli: Any, tmp_path: Any, rsa_key: rsa.RSAPrivateKey) -> None:
    assert cli("db", "upgrade").exit_code == 0
    created = cli("api-clients", "create", "hubspot", "--scope", "leads:read", "--scope", "signals:read",
                  "--allow-ip", "10.0.0.0/8")
    assert created.exit_code == 0, created.output
    assert "client_secret upsw_" in created.output
    key_file = tmp_path / "key.pem"
    key_file.write_text(_pem(rsa_key))
    keyed = cli("api-clients", "create", "salesforce", "--scope", "leads:write", "--public-key", str(key_file))
    assert keyed.exit_code == 0 and "client_secret" not in keyed.output
    listed = cli("api-clients", "list")
    assert "hubspot" in listed.output and "private_key_jwt" in listed.output
    rotated = cli("api-clients", "rotate", "hubspot")
    assert rotated.exit_code == 0 and "client_secret upsw_" in rotated.output
    assert cli("api-clients", "disable", "hubspot").exit_code == 0
    assert "no" in cli("api-clients", "list").output.split("hubspot", 1)[1].splitlines()[0]
    assert cli("api-clients", "create", "bad", "--scope", "everything").exit_code != 0
