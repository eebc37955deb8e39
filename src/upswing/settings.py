"""Settings from the environment (prefix ``UPSWING_``) or a ``.env`` file."""

from __future__ import annotations

import ipaddress
import json
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PLACEHOLDER_SECRET = "change-me"  # noqa: S105 - the sentinel we refuse outside development
LOCAL_SECRETS_FILE = "secrets.json"


def local_secrets_path(data_dir: Path) -> Path:
    """Where ``make demo`` keeps the secrets it generated (see ``core/local_secrets.py``)."""
    return data_dir / LOCAL_SECRETS_FILE



def _list_of_strings(value: object) -> object:
    """A list setting from the environment: JSON (``["a", "b"]``) or comma-separated (``a, b``)."""
    if isinstance(value, str):
        text = value.strip()
        return json.loads(text) if text.startswith("[") else [part.strip() for part in text.split(",") if part.strip()]
    return value


#: A list of strings given as JSON or comma-separated.
StringList = Annotated[list[str], NoDecode, BeforeValidator(_list_of_strings)]
_WEEKDAY = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun|[0-6])(-(mon|tue|wed|thu|fri|sat|sun|[0-6]))?$")


def _weekdays(values: list[str]) -> list[str]:
    """Weekday names (mon…sun), numbers (0 = Monday) or ranges (mon-fri); refused at start-up, not at the first
    escalation run."""
    days = [value.strip().lower()[:3] if "-" not in value else value.strip().lower() for value in values]
    bad = [value for value in days if not _WEEKDAY.match(value)]
    if bad or not days:
        raise ValueError(f"business_days: not weekdays {bad or values!r} (mon…sun, 0 = Monday, or mon-fri)")
    return days


class Settings(BaseSettings):
    # Secrets may also be files named after the variable (``upswing_secret_key``…) in UPSWING_SECRETS_DIR:
    # Docker secrets (/run/secrets) or a mounted Kubernetes Secret; the environment wins over them.
    model_config = SettingsConfigDict(env_prefix="UPSWING_", env_file=".env", extra="ignore",
                                      secrets_dir=os.environ.get("UPSWING_SECRETS_DIR") or None)

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Field(default=Path("./var"), description="Where the SQLite database and files live")
    database_url: str | None = Field(default=None, description="Defaults to SQLite in data_dir")
    # PostgreSQL row-level security (docs/security.md): requests carry the user's claims and switch to this
    # role (when the connecting role may); an empty role keeps the connecting one (it must not bypass RLS).
    db_row_level_security: bool = Field(default=True, description="Set the user's claims on request transactions")
    db_rls_role: str = Field(default="upswing_app", description="Role requests run as; '' keeps the login role")
    secret_key: SecretStr = SecretStr(PLACEHOLDER_SECRET)
    access_token_minutes: int = 30
    refresh_token_days: int = 14
    # Login throttling (docs/security.md, "Login throttling"): failures counted per account name and per client
    # address; at the threshold a lockout of login_lockout_seconds, doubling with each further failure.
    login_account_max_failures: int = Field(default=5, ge=1, description="Failures of one account name "
                                            "before it is locked out")
    login_address_max_failures: int = Field(default=20, ge=1, description="Failures from one client address "
                                            "(any account names) before it is locked out")
    login_lockout_seconds: int = Field(default=60, ge=1, description="First lockout; each further failure "
                                       "doubles it")
    login_lockout_max_seconds: int = Field(default=3600, ge=1, description="Longest lockout")
    login_failure_reset_hours: float = Field(default=24, gt=0, description="Failures are forgotten this long "
                                             "after the last one (and an account's at a successful sign-in)")
    # Machine clients (docs/security.md, "Machine clients"): token lifetime, and the per-client token bucket that
    # limits their calls (a refill rate, and the burst a full bucket allows).
    api_client_token_minutes: int = Field(default=15, ge=1, le=60, description="Lifetime of a client's access "
                                          "token")
    api_client_rate_per_minute: float = Field(default=600, gt=0, description="Calls a client may make per "
                                              "minute, on average")
    api_client_burst: int = Field(default=60, ge=1, description="Calls a client may make at once (the bucket)")
    encryption_keys: SecretStr | None = Field(
        default=None, description="PII/secret encryption keys 'id:base64(32 bytes),…', first active; "
                                  "derived from the secret key when unset")
    blind_index_key: SecretStr | None = Field(default=None, description="base64(32 bytes) HMAC key for look-ups")
    log_level: str = "INFO"
    log_json: bool = False
    lookback_days: int = Field(default=90, ge=1, description="First-snapshot look-back window")
    import_max_bytes: int = 200 * 1024 * 1024
    import_max_errors: int = Field(default=100, ge=0, description="Row errors an import reports one by one (in "
                                   "the API's response, the report and the CLI); all are counted per field")
    # Background tasks (see docs/sources.md, "Operations").
    # The API server's database pool (per worker process) and its statement timeout (PostgreSQL).
    db_pool_size: int = Field(default=10, ge=1, le=200, description="Connections kept per API worker process")
    db_pool_max_overflow: int = Field(default=20, ge=0, le=500, description="Extra connections under load")
    db_pool_timeout_seconds: float = Field(default=10, gt=0, description="Wait for a connection, then answer 503")
    http_keepalive_seconds: int = Field(default=75, ge=1, le=3600, description=(
        "`upswing serve`: how long an idle keep-alive connection stays open. Longer than any client's or proxy's "
        "own idle timeout (httpx 5 s, nginx 60 s), so the client closes first: with equal timeouts a request sent "
        "as the server closes the connection is reset"))
    api_statement_timeout_ms: int = Field(default=10_000, ge=100,
                                          description="An API query running longer is cancelled")
    # Managed PostgreSQL behind a pooler (docs/deployment.md, "Supabase"): a transaction pooler hands each
    # transaction to any server connection, so no prepared statements and no startup options may be used.
    db_transaction_pooler: bool | None = Field(default=None, description=(
        "The database URL goes through a transaction pooler (Supabase's port 6543, PgBouncer pool_mode="
        "transaction); unset: detected from port 6543 or ?pgbouncer=true in the URL"))
    task_runner: Literal["embedded", "celery"] = Field(
        default="embedded", description="embedded: in-process runner reading the task table; celery: Redis")
    celery_broker_url: str = Field(default="redis://127.0.0.1:6379/0", description=(
        "Celery broker: redis://… (rediss:// with TLS) or amqp://user:password@host:5672/vhost (RabbitMQ)"))
    celery_queue: str = "upswing"
    # Readiness (/readyz, docs/deployment.md, "Health checks").
    readiness_outbox_max_lag_seconds: float = Field(default=600, gt=0, description=(
        "/readyz fails when the oldest undelivered outbox event is older than this"))
    readiness_broker_timeout_seconds: float = Field(default=0.5, gt=0, le=10, description=(
        "/readyz: how long the broker ping may take (Celery runner only)"))
    readiness_broker_cache_seconds: float = Field(default=5, ge=0, le=300, description=(
        "/readyz: reuse the broker ping's answer this long"))
    task_poll_seconds: float = Field(default=0.5, gt=0, description=(
        "Embedded runner: how often it looks for runs queued by another process (its own process wakes it at "
        "once)"))
    task_threads: int = Field(default=2, ge=1, le=16, description=(
        "Embedded runner: tasks run at once in the process (one can send alerts while another evaluates)"))
    task_modules: list[str] = Field(default_factory=list, description="Extra modules that declare tasks")
    event_retention_days: int = Field(default=30, ge=1, description="Keep delivered outbox events this long")
    idempotency_retention_hours: int = Field(default=24, ge=1, description=(
        "Keep the answers of POSTs sent with an Idempotency-Key this long (a retry with the same key within it "
        "gets the first answer)"))
    # Source monitoring: how often each lead is fetched, and the defaults a source starts with.
    monitor_high_value_balance: float = Field(default=10_000, ge=0, description="Balance that makes a lead "
                                              "high-value (fetched at the high-value interval)")
    monitor_high_value_every_hours: float = Field(default=24, gt=0)
    monitor_default_every_hours: float = Field(default=24 * 7, gt=0)
    monitor_leads_per_run: int = Field(default=100, ge=1, description=(
        "A scheduled run of a source fetches for at most this many leads (or companies) and, when it found that "
        "many due, queues the next part of the round: every worker shares a large portfolio's round, no run holds "
        "all of it, and a worker is never busy with one for long (a worker takes its queues in turn, so an alert "
        "waits for the part a worker has in hand: with parts of 500 the e-mail p95 was 26 s at 10k leads, with "
        "100 2.5 s; benchmarks/scale.py)"))
    linkedin_daily_profile_budget: int = Field(default=300, ge=0, description="LinkedIn profile scrapes a day")
    apify_token: SecretStr | None = Field(default=None, description="Default token of the Apify sources")
    firecrawl_api_key: SecretStr | None = Field(default=None, description="Default key of the Firecrawl sources")
    google_cse_api_key: SecretStr | None = Field(default=None, description="Google Custom Search key")
    google_cse_id: str | None = Field(default=None, description="Google Custom Search engine id (cx)")
    source_defaults: dict[str, dict[str, object]] = Field(
        default_factory=dict, description='Per-source config defaults, JSON: {"rss": {"feeds": ["https://…"]}}')
    # Notifications (notify/): how alert e-mails and webhooks leave. With the default "none" every e-mail delivery
    # fails permanently and visibly, naming UPSWING_EMAIL_TRANSPORT, instead of being silently dropped.
    email_transport: Literal["none", "brevo", "smtp"] = Field(
        default="none", description="How alert e-mails are sent: brevo (transactional API), smtp, or none")
    email_from: str = Field(default="alerts@upswing.local", description="Sender address of alert e-mails")
    email_from_name: str = Field(default="Upswing", description="Sender display name of alert e-mails")
    brevo_api_key: SecretStr | None = Field(default=None, description="Brevo API key (sent as the api-key header)")
    brevo_base_url: str = Field(default="https://api.brevo.com", description="Brevo API root (tests: the fake)")
    smtp_host: str = Field(default="127.0.0.1", description="SMTP relay host")
    smtp_port: int = Field(default=587, ge=1, le=65535, description="SMTP relay port (587: submission)")
    smtp_username: str | None = Field(default=None, description="SMTP login; unset: no AUTH")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password")
    smtp_starttls: bool = Field(default=True, description="Upgrade the SMTP connection with STARTTLS (required "
                                "when on: a relay that does not offer it fails the send)")
    # A relay with a private CA is trusted by naming that CA, so the certificate is still verified.
    smtp_ca_file: Path | None = Field(default=None, description="CA bundle (PEM) that verifies the SMTP relay's "
                                      "certificate; unset: the system's trust store")
    smtp_timeout_seconds: float = Field(default=10, gt=0, description="SMTP connect and command timeout")
    webhook_timeout_seconds: float = Field(default=10, gt=0, description="Webhook delivery connect/read timeout")
    dashboard_dir: Path | None = Field(default=None, description="The built dashboard (default: dashboard/dist "
                                       "beside the source tree)")
    public_base_url: str = Field(default="http://127.0.0.1:8000", description="Where people reach Upswing "
                                 "(links in alert e-mails)")
    # Alerts (docs/alerts.md): noise control, retries, the live stream.
    alert_dedup_window_hours: float = Field(default=24, gt=0, description="A further signal on a lead within this "
                                            "long updates the user's open alert instead of making a new one")
    alert_hourly_cap: int = Field(default=20, ge=1, description="Alerts per user per channel per hour; beyond it "
                                  "they go to the user's digest (a user's own cap overrides it)")
    alert_email_max_attempts: int = Field(default=8, ge=1, description="E-mail attempts before a delivery fails")
    alert_send_concurrency: int = Field(default=8, ge=1, le=64, description="Deliveries a sender has in flight "
                                        "at once (providers answer in tens to hundreds of milliseconds)")
    alert_delivery_lease_seconds: float = Field(default=60, gt=0, description="A claimed delivery not recorded "
                                                "within this long is taken by another sender")
    webhook_retry_days: float = Field(default=3, gt=0, description="Retry a webhook delivery for this long")
    webhook_disable_after_days: float = Field(default=5, gt=0, description="Disable a subscription failing "
                                              "this long (its owner is alerted)")
    webhook_disable_after_failures: int = Field(default=100, ge=1, description="…or after this many failed "
                                                "deliveries in a row")
    # Digests and escalation (docs/digest.md). A team's own business hours and holidays override these.
    digest_send_time: str = Field(default="07:30", pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
                                  description="Default local send time of the daily digest (HH:MM)")
    digest_max_items: int = Field(default=25, ge=1, le=500, description="Signals listed per section of a digest "
                                  "(the rest are counted, with a link)")
    digest_max_total_items: int = Field(default=60, ge=1, le=1000, description="Signals listed in a whole digest "
                                        "(new and still open), highest priority first: keeps it under Gmail's "
                                        "102 kB clip")
    digest_first_lookback_days: int = Field(default=1, ge=1, le=30, description="A user's first digest covers "
                                            "this many days")
    brevo_webhook_token: SecretStr | None = Field(default=None, description="Brevo's event webhook is accepted "
                                                  "only with this bearer token (or basic-auth password)")
    brevo_webhook_networks: Annotated[StringList, AfterValidator(
        lambda networks: [str(ipaddress.ip_network(n, strict=False)) for n in networks])] = Field(
        default_factory=list, description="…and only from these networks (CIDR, comma-separated or JSON); "
                                          "unset: the webhook is refused")
    business_timezone: str = Field(default="America/New_York", description="Time zone of the business hours "
                                   "escalation counts in (a team's own overrides it)")
    business_hours_start: str = Field(default="09:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
                                      description="Start of the business day (HH:MM)")
    business_hours_end: str = Field(default="17:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
                                    description="End of the business day (HH:MM)")
    business_days: Annotated[StringList, AfterValidator(_weekdays)] = Field(
        default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"],
                                      description="Working weekdays (mon…sun)")
    holiday_country: str | None = Field(default="US", description="Public holidays of this country (ISO code, "
                                        "the holidays package) are not business days; empty: none")
    escalation_max_age_days: int = Field(default=30, ge=1, description="Signals older than this are not "
                                         "escalated (the digest's 'still open' section lists them)")
    stream_heartbeat_seconds: float = Field(default=15, gt=0, description="SSE comment sent when idle")
    stream_poll_seconds: float = Field(default=2, gt=0, description="SSE look-up interval without a wake-up")
    stream_retention_days: int = Field(default=7, ge=1, description="Live-stream events kept for resuming")
    # Outbound requests (docs/security.md, "Outbound requests"): sources never reach private, loopback, link-local,
    # multicast, reserved or unspecified addresses (cloud metadata among them) except those allow-listed here.
    outbound_allow_hosts: StringList = Field(
        default_factory=list, description="Host names or IP addresses that outbound requests may reach even when "
                                          "they are (or resolve to) private addresses: comma-separated or JSON")
    outbound_allow_networks: Annotated[StringList, AfterValidator(
        lambda networks: [str(ipaddress.ip_network(n, strict=False)) for n in networks])] = Field(
        default_factory=list, description="Networks (CIDR, e.g. 10.20.0.0/16, fd00::/8) that outbound requests "
                                          "may reach: comma-separated or JSON")
    # Linking observations to leads (see docs/technical.md, "Resolution").
    link_threshold: float = Field(default=0.9, gt=0, le=1, description="Match score that links automatically")
    review_threshold: float = Field(default=0.6, gt=0, le=1, description="Match score that goes to review")
    # Signals: one per real event, and their score (see docs/user-manual.md, "Scoring").
    text_min_confidence: float = Field(default=0.5, ge=0, le=1, description="Text classifications below this "
                                       "confidence make no signal (see docs/detection.md)")
    corroboration_window_days: int = Field(
        default=45, ge=0, description="Sightings of the same event this many days apart merge into one signal")
    scoring_half_life_days: float = Field(default=30.0, gt=0, description="Recency halves every this many days")
    scoring_weights: dict[str, Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=dict, description='Type weights 0..1 over the defaults, JSON: {"award": 0.2}')
    scoring_thresholds: dict[Literal["urgent", "high", "medium"], Annotated[int, Field(ge=0, le=100)]] = Field(
        default_factory=dict, description='Lowest score per priority, JSON: {"urgent": 80, "high": 60}')
    # Privacy (see docs/privacy.md): the mode sets what is stored and for how long; the *_days fields
    # override the mode's retention periods (unset: the mode's default).
    privacy_mode: Literal["standard", "gdpr_strict"] = "standard"
    retention_raw_payload_days: int | None = Field(default=None, ge=0, description="Keep raw payloads this long")
    retention_observation_days: int | None = Field(default=None, ge=1, description="Keep observations this long")
    retention_signal_days: int | None = Field(default=None, ge=1, description="Keep closed signals this long")
    # Consented first-party tracking (docs/tracking.md).
    tracking_retention_days: int | None = Field(default=None, ge=1, description=(
        "Keep consented tracking events and visitors this long (unset: 365 standard, 90 gdpr_strict)"))
    tracking_rate_per_minute: int = Field(default=120, ge=1, description="Tracking calls per site and address")
    tracking_burst: int = Field(default=60, ge=1, description="Tracking calls allowed at once per site and address")
    tracking_max_body_bytes: int = Field(default=4096, ge=256, description="Largest tracking call body")
    tracking_allowed_properties: StringList = Field(default_factory=lambda: [
        "step", "plan", "term_months", "amount_band", "result", "option"], description=(
        "Event properties kept (every other property is dropped): comma-separated or JSON"))
    tracking_path_groups: dict[str, list[str]] = Field(default_factory=dict, description=(
        'Path prefixes per group over the defaults, JSON: {"repayment": ["/pay"]}'))
    tracking_engagement_weights: dict[str, Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=dict, description=(
            'Engagement weights over the defaults, JSON: {"hardship_view": 0.4} (docs/tracking.md)'))
    tracking_engagement_window_days: int = Field(default=14, ge=1, le=90, description=(
        "Behaviour this many days back counts towards engagement"))
    tracking_return_visit_days: int = Field(default=7, ge=1, le=90, description=(
        "A visit on another day within this many days of the last one is a return visit"))
    tracking_signal_min_strength: float = Field(default=0.5, gt=0, le=1, description=(
        "Engagement strength that raises a portal_engagement signal (once per lead and week)"))
    # Backups (docs/backup.md): `upswing backup create` writes here; with it set, backups run on a schedule.
    backup_dir: Path | None = Field(default=None, description="Where backups go; set: a daily backup and prune run")
    backup_encryption_key: SecretStr | None = Field(default=None, description=(
        "base64(32 bytes) AES-256-GCM key that encrypts backup files (`upswing backup create --encrypt`, and "
        "the scheduled backups when set)"))
    backup_keep_daily: int = Field(default=7, ge=0, description="Prune keeps the newest backup of this many days")
    backup_keep_weekly: int = Field(default=4, ge=0, description="…of this many ISO weeks")
    backup_keep_monthly: int = Field(default=6, ge=0, description="…and of this many months")

    # Observability (docs/observability.md): /metrics, Sentry, request ids.
    metrics_enabled: bool = Field(default=True, description="Serve Prometheus metrics at /metrics")
    metrics_token: SecretStr | None = Field(default=None, description=(
        "Bearer token a scrape of /metrics must send; unset: /metrics is served without one except in "
        "production, where it answers 404 until a token is set"))
    metrics_db_cache_seconds: float = Field(default=15, ge=0, description=(
        "Gauges read from the database (queues, outbox lag, sources) are re-read at most this often"))
    metrics_db_timeout_ms: int = Field(default=2000, ge=100, description=(
        "Statement timeout of those reads (PostgreSQL): a slow database never hangs a scrape"))
    sentry_dsn: SecretStr | None = Field(default=None, description="Sentry DSN; unset: no error reporting")
    sentry_traces_sample_rate: float = Field(default=0.0, ge=0, le=1, description=(
        "Share of requests and tasks traced for Sentry's performance view (0: errors only)"))
    release: str | None = Field(default=None, description="Release reported to Sentry (default: the version)")

    @model_validator(mode="after")
    def _scoring_thresholds_in_order(self) -> Settings:
        # Only the overridden ones are compared here; the signal domain checks them again with its defaults.
        given = [self.scoring_thresholds[p] for p in ("urgent", "high", "medium") if p in self.scoring_thresholds]
        if given != sorted(given, reverse=True):
            raise ValueError("UPSWING_SCORING_THRESHOLDS must not increase from urgent to medium")
        return self

    @model_validator(mode="after")
    def _thresholds_in_order(self) -> Settings:
        if self.review_threshold > self.link_threshold:
            raise ValueError("UPSWING_REVIEW_THRESHOLD must not be above UPSWING_LINK_THRESHOLD")
        return self

    @model_validator(mode="after")
    def _secrets_from_the_data_directory(self) -> Settings:
        """Secrets not set in the environment come from ``<data dir>/secrets.json`` when there is one (written by
        ``make demo``: core/local_secrets.py)."""
        path = local_secrets_path(self.data_dir)
        if self.secret_key.get_secret_value() != PLACEHOLDER_SECRET or not path.is_file():
            return self  # a secret set in the environment: the file is not this deployment's
        stored = json.loads(path.read_text())
        if stored.get("secret_key"):
            self.secret_key = SecretStr(stored["secret_key"])
        if self.encryption_keys is None and stored.get("encryption_keys"):
            self.encryption_keys = SecretStr(stored["encryption_keys"])
        if self.blind_index_key is None and stored.get("blind_index_key"):
            self.blind_index_key = SecretStr(stored["blind_index_key"])
        return self

    @property
    def uses_placeholder_secret(self) -> bool:
        return self.secret_key.get_secret_value() == PLACEHOLDER_SECRET

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        secret = self.secret_key.get_secret_value()
        if self.environment != "development" and (secret == PLACEHOLDER_SECRET or len(secret) < 32):
            raise ValueError(
                "UPSWING_SECRET_KEY must be set to a random value of at least 32 characters "
                f"outside development (environment={self.environment})"
            )
        return self

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'upswing.db').resolve()}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
