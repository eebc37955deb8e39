"""``upswing alerts …`` (the inbox, the live stream, rules) and ``upswing webhooks …`` (subscriptions)."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

import typer

from upswing.account.cli import active_user
from upswing.core.cli_support import cli_actor, console, fail, fail_invalid, resolve_id, user_errors

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from upswing.account.models import User

app = typer.Typer(help="Alerts: your inbox, the live stream, and the rules that make alerts.", no_args_is_help=True)
rules_app = typer.Typer(help="Alert rules: what should reach whom.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")
webhooks_app = typer.Typer(help="Webhook subscriptions: signed alert events to your systems.", no_args_is_help=True)

_AS = typer.Option(..., "--as", help="Username whose alerts these are")
_AS_OPTIONAL = typer.Option(None, "--as", help="Act as this user (their rights); default: the operator (admin)")


def _alert_id(session: Session, user: User, given: str) -> uuid.UUID:
    from sqlalchemy import select

    from upswing.alert.models import Alert

    return resolve_id(session, select(Alert.id).where(Alert.user_id == user.id), Alert.id, given, "alert")


def _rule_id(session: Session, given: str) -> uuid.UUID:
    from sqlalchemy import select

    from upswing.alert.models import AlertRule

    return resolve_id(session, select(AlertRule.id), AlertRule.id, given, "rule")


def _subscription_id(session: Session, given: str) -> uuid.UUID:
    from sqlalchemy import select

    from upswing.alert.models import WebhookSubscription

    return resolve_id(session, select(WebhookSubscription.id), WebhookSubscription.id, given, "subscription")


def _json(data: Any) -> None:
    import orjson

    console.print_json(orjson.dumps(data, default=str).decode())


def _load_json(value: str | None, option: str) -> Any:
    import orjson

    if value is None:
        return None
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        fail(f"{option}: not valid JSON ({exc})")


# --------------------------------------------------------------------------------------------------
# The inbox


@app.command("list")
def list_alerts(username: str = _AS, unread: bool = typer.Option(False, "--unread", help="Only unread ones"),
                limit: int = typer.Option(50, min=1, max=1000)) -> None:
    """Your alerts, newest first."""
    from rich.table import Table

    from upswing.alert import service
    from upswing.alert.schemas import AlertFilters
    from upswing.core.db import transaction

    with transaction() as session, user_errors():
        page = service.list_alerts(session, active_user(session, username),
                                   AlertFilters(status="unread" if unread else None, limit=limit))
    table = Table("id", "when", "priority", "status", "lead", "title", "actionable", "call now",
                  title=f"{len(page.items)} alert(s)")
    for alert in page.items:
        call = alert.guard.get("call")
        table.add_row(str(alert.id)[:8], alert.created_at.strftime("%Y-%m-%d %H:%M"), alert.priority, alert.status,
                      f"{alert.lead_external_id or ''} {alert.lead_name or ''}".strip(), alert.title,
                      "yes" if alert.actionable else "no",
                      "" if call is None else ("yes" if call.allowed else ", ".join(call.reasons)))
    console.print(table)


@app.command("read")
def read(alert_id: str = typer.Argument(..., help="Alert id or its first characters"), username: str = _AS) -> None:
    """Mark an alert read."""
    from upswing.alert import service
    from upswing.core.db import transaction

    with transaction() as session, user_errors():
        user = active_user(session, username)
        alert = service.mark_read(session, user, _alert_id(session, user, alert_id))
    console.print(f"read: {alert.title}")


@app.command("read-all")
def read_all(username: str = _AS) -> None:
    """Mark all your alerts read."""
    from upswing.alert import service
    from upswing.core.db import transaction

    with transaction() as session, user_errors():
        marked = service.read_all(session, active_user(session, username))
    console.print(f"{marked} alert(s) marked read")


@app.command("summary")
def summary(username: str = _AS) -> None:
    """Your alerts counted by priority and status."""
    from upswing.alert import service
    from upswing.core.db import transaction

    with transaction(read=True) as session, user_errors():
        _json(service.summary(session, active_user(session, username)).model_dump())


@app.command("tail")
def tail(username: str = _AS, from_start: bool = typer.Option(False, "--from-start",
                                                            help="Print the stored events first"),
         poll: float = typer.Option(1.0, min=0.1, help="Seconds between look-ups without a wake-up"),
         count: int | None = typer.Option(None, min=1, help="Stop after this many events")) -> None:
    """Print your live stream as it arrives (Ctrl-C to stop): the same events the dashboard receives."""
    import threading

    import orjson

    from upswing.core.db import transaction
    from upswing.notify import stream
    from upswing.settings import get_settings

    with transaction(read=True) as session, user_errors():
        user = active_user(session, username)
        after = 0 if from_start else stream.latest_id(session, user.id)
    woken = threading.Event()
    listener = stream.ensure_listener(get_settings().sqlalchemy_url)

    def wake(user_id: uuid.UUID) -> None:
        if user_id == user.id:
            woken.set()

    stream.BROADCASTER.add_listener(wake)
    console.print(f"[dim]tailing {username}'s stream ({'LISTEN/NOTIFY' if listener else 'polling'}); Ctrl-C "
                  "stops[/]")
    printed = 0
    try:
        while count is None or printed < count:
            woken.clear()
            with transaction(read=True) as session:
                events = [(e.id, e.kind, e.data) for e in stream.read_since(session, user.id, after)]
            for event_id, kind, data in events:
                after = event_id
                printed += 1
                console.print(f"[bold]{kind}[/] #{event_id} {orjson.dumps(data).decode()}", soft_wrap=True)
                if count is not None and printed >= count:
                    break
            if not events:
                woken.wait(timeout=poll)
    except KeyboardInterrupt:
        pass
    finally:
        stream.BROADCASTER.remove_listener(wake)


@app.command("send")
def send(loop: bool = typer.Option(False, "--loop", help="Keep sending as deliveries fall due"),
         every: float = typer.Option(1.0, min=0.1, help="With --loop: seconds between sweeps")) -> None:
    """Send due e-mail and webhook deliveries now (the workers do this on their own)."""
    from upswing.alert import sending

    while True:
        report = sending.send_due()
        if report.processed or not loop:
            console.print(f"sent {report.sent}, retrying {report.retried}, failed {report.failed}")
        if not loop:
            return
        time.sleep(every)


@app.command("failed")
def failed(limit: int = typer.Option(50, min=1, max=1000)) -> None:
    """Deliveries that failed for good, newest first."""
    from rich.table import Table

    from upswing.alert import sending
    from upswing.core.db import transaction

    with transaction(read=True) as session:
        rows = sending.failed_deliveries(session, limit=limit)
        table = Table("id", "created", "channel", "attempts", "error", title=f"{len(rows)} failed deliveries")
        for row in rows:
            table.add_row(str(row.id)[:8], row.created_at.strftime("%Y-%m-%d %H:%M"), row.channel, str(row.attempts),
                          row.last_error or "")
    console.print(table)


# --------------------------------------------------------------------------------------------------
# Rules


@rules_app.command("list")
def rules_list(username: str | None = _AS_OPTIONAL) -> None:
    """Alert rules."""
    from rich.table import Table

    from upswing.alert import service
    from upswing.core.db import transaction

    with transaction(read=True) as session, user_errors():
        rules = service.list_rules(session, active_user(session, username) if username else None)
        table = Table("id", "name", "type", "conditions", "channels", "recipients", "enabled", title="alert rules")
        for rule in rules:
            import orjson

            table.add_row(str(rule.id)[:8], rule.name, rule.rule_type, orjson.dumps(rule.conditions).decode(),
                          ", ".join(rule.channels), rule.recipients.get("to", "owner"),
                          "yes" if rule.enabled else "no")
    console.print(table)


_CONDITIONS = typer.Option(None, "--conditions", help='JSON, e.g. \'{"min_score": 80, "signal_types": ["promotion"]}\'')
_RECIPIENTS = typer.Option(None, "--recipients", help='JSON: {"to": "owner"}, {"to": "manager"} or '
                                                      '{"to": "named", "users": ["…"], "teams": ["…"]}')


@rules_app.command("create")
def rules_create(name: str = typer.Argument(...), rule_type: str = typer.Option("custom", "--type"),
                 conditions: str | None = _CONDITIONS,
                 channels: str = typer.Option("in_app", help="Comma-separated: in_app, email, webhook"),
                 priority: str | None = typer.Option(None), recipients: str | None = _RECIPIENTS,
                 team: str | None = typer.Option(None, help="Only this team's leads"),
                 username: str | None = _AS_OPTIONAL) -> None:
    """Create a rule (validated: a bad key is named)."""
    from pydantic import ValidationError

    from upswing.alert import service
    from upswing.alert.schemas import RuleCreate, RuleRead
    from upswing.core.db import transaction

    try:
        data = RuleCreate.model_validate({
            "name": name, "rule_type": rule_type, "conditions": _load_json(conditions, "--conditions") or {},
            "channels": [c.strip() for c in channels.split(",") if c.strip()], "priority": priority,
            "recipients": _load_json(recipients, "--recipients"), "team": team})
    except ValidationError as exc:
        fail_invalid(exc)
    with transaction() as session, user_errors():
        user = active_user(session, username) if username else None
        rule = service.create_rule(session, data, user=user, actor=f"user:{username}" if username else cli_actor())
        _json(RuleRead.model_validate(rule).model_dump(mode="json"))


@rules_app.command("update")
def rules_update(rule_id: str = typer.Argument(...), conditions: str | None = _CONDITIONS,
                 channels: str | None = typer.Option(None), enabled: bool | None = typer.Option(None),
                 recipients: str | None = _RECIPIENTS, username: str | None = _AS_OPTIONAL) -> None:
    """Change a rule."""
    from pydantic import ValidationError

    from upswing.alert import service
    from upswing.alert.schemas import RuleRead, RuleUpdate
    from upswing.core.db import transaction

    raw: dict[str, Any] = {}
    if conditions is not None:
        raw["conditions"] = _load_json(conditions, "--conditions")
    if channels is not None:
        raw["channels"] = [c.strip() for c in channels.split(",") if c.strip()]
    if enabled is not None:
        raw["enabled"] = enabled
    if recipients is not None:
        raw["recipients"] = _load_json(recipients, "--recipients")
    try:
        data = RuleUpdate.model_validate(raw)
    except ValidationError as exc:
        fail_invalid(exc)
    with transaction() as session, user_errors():
        user = active_user(session, username) if username else None
        rule = service.update_rule(session, _rule_id(session, rule_id), data, user=user,
                                   actor=f"user:{username}" if username else cli_actor())
        _json(RuleRead.model_validate(rule).model_dump(mode="json"))


@rules_app.command("delete")
def rules_delete(rule_id: str = typer.Argument(...), username: str | None = _AS_OPTIONAL) -> None:
    from upswing.alert import service
    from upswing.core.db import transaction

    with transaction() as session, user_errors():
        user = active_user(session, username) if username else None
        service.delete_rule(session, _rule_id(session, rule_id), user=user,
                            actor=f"user:{username}" if username else cli_actor())
    console.print("deleted")


@rules_app.command("dry-run")
def rules_dry_run(rule_id: str | None = typer.Argument(None, help="A rule (else give --conditions)"),
                  conditions: str | None = _CONDITIONS,
                  last: int = typer.Option(200, min=1, max=5000, help="How many of the newest signals to test"),
                  username: str | None = _AS_OPTIONAL) -> None:
    """Which of the newest signals a rule (or conditions) would have matched; nothing is sent."""
    from upswing.alert import service
    from upswing.core.db import transaction

    if rule_id is None and conditions is None:
        fail("give a rule id or --conditions")
    with transaction(read=True) as session, user_errors():
        user = active_user(session, username) if username else None
        raw = (service.get_rule(session, _rule_id(session, rule_id), user).conditions if rule_id
               else _load_json(conditions, "--conditions"))
        result = service.dry_run(session, raw or {}, last=last, user=user)
    _json(result.model_dump(mode="json"))


# --------------------------------------------------------------------------------------------------
# Webhooks


@webhooks_app.command("list")
def webhooks_list() -> None:
    from rich.table import Table

    from upswing.alert import sending
    from upswing.core.db import transaction

    with transaction(read=True) as session:
        table = Table("id", "url", "events", "enabled", "failures", title="webhook subscriptions")
        for row in sending.list_subscriptions(session, None):
            table.add_row(str(row.id)[:8], row.url, ", ".join(row.event_types),
                          "yes" if row.enabled else f"no ({row.disabled_reason or 'by its owner'})",
                          str(row.consecutive_failures))
    console.print(table)


@webhooks_app.command("create")
def webhooks_create(url: str = typer.Argument(...), owner: str = typer.Option(..., "--owner", help="Username"),
                    events: str = typer.Option("alert.created", help="Comma-separated event types"),
                    description: str | None = typer.Option(None)) -> None:
    """Subscribe a URL; prints the signing secret once."""
    from pydantic import ValidationError

    from upswing.alert import sending
    from upswing.alert.schemas import SubscriptionCreate, SubscriptionWithSecret
    from upswing.core.db import transaction

    try:
        data = SubscriptionCreate.model_validate({"url": url, "description": description,
                                                  "event_types": [e.strip() for e in events.split(",")]})
    except ValidationError as exc:
        fail_invalid(exc)
    with transaction() as session, user_errors():
        row = sending.create_subscription(session, data, owner=active_user(session, owner))
        _json(SubscriptionWithSecret.model_validate(row).model_dump(mode="json"))


@webhooks_app.command("rotate-secret")
def webhooks_rotate(subscription: str = typer.Argument(...)) -> None:
    from upswing.alert import sending
    from upswing.core.db import transaction

    with transaction() as session, user_errors():
        row = sending.rotate_secret(session, _subscription_id(session, subscription), user=None, actor=cli_actor())
        console.print(f"new secret: {row.secret}")


@webhooks_app.command("ping")
def webhooks_ping(subscription: str = typer.Argument(...)) -> None:
    """Queue a signed ping event (``upswing webhooks deliveries`` shows the outcome)."""
    from upswing.alert import sending
    from upswing.core.db import transaction

    with transaction() as session, user_errors():
        delivery = sending.ping(session, _subscription_id(session, subscription), user=None)
        console.print(f"ping queued: delivery {delivery.id}")


@webhooks_app.command("deliveries")
def webhooks_deliveries(subscription: str = typer.Argument(...),
                        limit: int = typer.Option(50, min=1, max=1000)) -> None:
    from rich.table import Table

    from upswing.alert import sending
    from upswing.core.db import transaction

    with transaction(read=True) as session, user_errors():
        rows = sending.list_deliveries(session, _subscription_id(session, subscription), user=None, limit=limit)
        table = Table("id", "created", "event", "status", "attempts", "http", "error", title="deliveries")
        for row in rows:
            table.add_row(str(row.id), row.created_at.strftime("%Y-%m-%d %H:%M:%S"), row.event_type or "",
                          row.status, str(row.attempts), str(row.response_status or ""), row.last_error or "")
    console.print(table)


@webhooks_app.command("replay")
def webhooks_replay(subscription: str = typer.Argument(...), delivery_id: str = typer.Argument(...)) -> None:
    from upswing.alert import sending
    from upswing.core.db import transaction

    with transaction() as session, user_errors():
        try:
            original = uuid.UUID(delivery_id)
        except ValueError:
            fail(f"delivery id: not a UUID: {delivery_id!r}")
        copy = sending.replay(session, _subscription_id(session, subscription), original, user=None)
        console.print(f"replay queued: delivery {copy.id}")


@webhooks_app.command("delete")
def webhooks_delete(subscription: str = typer.Argument(...)) -> None:
    from upswing.alert import sending
    from upswing.core.db import transaction

    with transaction() as session, user_errors():
        sending.delete_subscription(session, _subscription_id(session, subscription), user=None, actor=cli_actor())
    console.print("deleted")
