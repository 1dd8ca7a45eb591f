"""Settings from the environment, one object per process."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    service_name: str = Field(default="ohs", validation_alias="OHS_SERVICE")
    kafka_bootstrap_servers: str = Field(default="127.0.0.1:9092", validation_alias="KAFKA_BOOTSTRAP_SERVERS")
    # Kafka security (shared/kafka_security.py): PLAINTEXT for the development broker; a secured cluster
    # (deploy/kafka/cluster.sh) wants SASL_PLAINTEXT or SASL_SSL with this process's SCRAM principal
    # (ohs-<service> for a service, admin for topic and ACL administration).
    kafka_security_protocol: Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        default="PLAINTEXT", validation_alias="KAFKA_SECURITY_PROTOCOL")
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256"] = Field(default="SCRAM-SHA-512", validation_alias="KAFKA_SASL_MECHANISM")
    kafka_sasl_username: str = Field(default="", validation_alias="KAFKA_SASL_USERNAME")
    kafka_sasl_password: str = Field(default="", validation_alias="KAFKA_SASL_PASSWORD", repr=False)
    kafka_ssl_cafile: Path | None = Field(default=None, validation_alias="KAFKA_SSL_CAFILE")  # SASL_SSL: the CA to trust
    # Topics the admin creates (shared.kafka_admin): 1 and 1 for one broker; 3 and 2 for the cluster.
    # Above 1 in-sync replica the services' producers also wait for them all (acks=all).
    kafka_replication_factor: int = Field(default=1, ge=1, validation_alias="KAFKA_REPLICATION_FACTOR")
    kafka_min_insync_replicas: int = Field(default=1, ge=1, validation_alias="KAFKA_MIN_INSYNC_REPLICAS")
    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    data_dir: Path = Field(default=REPO_ROOT / ".run" / "data", validation_alias="OHS_DATA_DIR")
    http_host: str = Field(default="127.0.0.1", validation_alias="OHS_HTTP_HOST")
    http_port: int | None = Field(default=None, validation_alias="OHS_HTTP_PORT")
    # Extra rule-data folder an agency can drop official tables into without a release.
    rules_dir: Path | None = Field(default=None, validation_alias="OHS_RULES_DIR")
    # Folder of document templates overriding the packaged ones (wording of the 评估报告 and 公示).
    templates_dir: Path | None = Field(default=None, validation_alias="OHS_TEMPLATES_DIR")
    # Consumer reliability: attempts before an event goes to <topic>.dlq, and the pause between them.
    consumer_max_attempts: int = Field(default=5, ge=1, validation_alias="OHS_CONSUMER_MAX_ATTEMPTS")
    consumer_retry_backoff_s: float = Field(default=0.5, ge=0, validation_alias="OHS_CONSUMER_RETRY_BACKOFF_S")
    # Batches (shared/messaging.py): at most this many records per transaction, whatever the broker has
    # ready; when it has none, the consumer asks again after this many milliseconds.
    consumer_batch_max: int = Field(default=500, ge=1, le=10_000, validation_alias="OHS_CONSUMER_BATCH_MAX")
    consumer_batch_wait_ms: int = Field(default=50, ge=1, le=5_000, validation_alias="OHS_CONSUMER_BATCH_WAIT_MS")
    # A dead letter's body is cut past this size (the headers keep the original's size and SHA-256), so
    # the letter always fits the broker's message limit (1 MiB by default) whatever the record was.
    dlq_max_body_bytes: int = Field(default=256 * 1024, ge=0, le=900 * 1024, validation_alias="OHS_DLQ_MAX_BODY_BYTES")
    # The largest request body a service reads (413 past it); a route may have its own (shared/limits.py).
    max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1, validation_alias="OHS_MAX_BODY_BYTES")
    consumer_group_prefix: str = Field(default="ohs", validation_alias="OHS_CONSUMER_GROUP_PREFIX")
    # Signs and verifies bearer tokens; the same secret for every service of a province.
    auth_secret: str = Field(default="", validation_alias="OHS_AUTH_SECRET", repr=False)
    # Rotating the secret (docs/operations.md): the previous one, still accepted for verifying (never for signing)
    # until every token signed with it has expired; then unset.
    auth_secret_previous: str = Field(default="", validation_alias="OHS_AUTH_SECRET_PREVIOUS", repr=False)
    # Reminders (registry): a re-assessment due within this many days is "due soon".
    reminder_within_days: int = Field(default=90, ge=0, validation_alias="OHS_REMINDER_WITHIN_DAYS")
    # Attachments of rectification submissions (registry): stored on the local disk under
    # <data_dir>/attachments by default, in an S3-compatible store when this is s3://bucket/prefix
    # (endpoint by ?endpoint=http://host:port, credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).
    attachments_url: str | None = Field(default=None, validation_alias="OHS_ATTACHMENTS_URL")
    attachment_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1, le=100 * 1024 * 1024, validation_alias="OHS_ATTACHMENT_MAX_BYTES")
    attachment_max_files: int = Field(default=5, ge=1, le=50, validation_alias="OHS_ATTACHMENT_MAX_FILES")
    # Notifications (notification service): e-mail over SMTP when set (smtp://[user:password@]host:port
    # [?starttls=true], or smtps:// for implicit TLS); unset, e-mail is off and the web inbox alone
    # carries notifications. SMS is an adapter an agency plugs in: "module:factory".
    smtp_url: str | None = Field(default=None, validation_alias="OHS_SMTP_URL", repr=False)
    mail_from: str = Field(default="ohs-noreply@localhost", max_length=200, validation_alias="OHS_MAIL_FROM")
    sms_adapter: str | None = Field(default=None, validation_alias="OHS_SMS_ADAPTER")
    delivery_max_attempts: int = Field(default=5, ge=1, le=50, validation_alias="OHS_DELIVERY_MAX_ATTEMPTS")
    # Online monitoring (monitoring service): raw readings are kept this many days, then purged (the per-shift
    # aggregates and the exceedance episodes are kept for good).
    monitoring_raw_days: int = Field(default=90, ge=1, le=3650, validation_alias="OHS_MONITORING_RAW_DAYS")

    # The console (services/console): where it finds the other services' APIs, and how it keeps sessions.
    assessment_url: str = Field(default="http://127.0.0.1:8001", max_length=500, validation_alias="OHS_ASSESSMENT_URL")
    registry_url: str = Field(default="http://127.0.0.1:8002", max_length=500, validation_alias="OHS_REGISTRY_URL")
    sampling_url: str = Field(default="http://127.0.0.1:8003", max_length=500, validation_alias="OHS_SAMPLING_URL")
    penalty_url: str = Field(default="http://127.0.0.1:8004", max_length=500, validation_alias="OHS_PENALTY_URL")
    notification_url: str = Field(default="http://127.0.0.1:8006", max_length=500, validation_alias="OHS_NOTIFICATION_URL")
    monitoring_url: str = Field(default="http://127.0.0.1:8005", max_length=500, validation_alias="OHS_MONITORING_URL")
    api_timeout_s: float = Field(default=10.0, gt=0, le=120, validation_alias="OHS_API_TIMEOUT_S")
    # A session ends after this long without a request, and in any case this long after sign-in.
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60, validation_alias="OHS_SESSION_IDLE_MINUTES")
    session_max_hours: int = Field(default=10, ge=1, le=72, validation_alias="OHS_SESSION_MAX_HOURS")
    # The bearer tokens the console mints for the signed-in person live this long (seconds).
    service_token_seconds: int = Field(default=300, ge=30, le=3600, validation_alias="OHS_SERVICE_TOKEN_SECONDS")
    # Sign-in lock-out: after this many failures in a row the account is locked this many minutes.
    lockout_failures: int = Field(default=5, ge=1, le=100, validation_alias="OHS_LOCKOUT_FAILURES")
    lockout_minutes: int = Field(default=15, ge=1, le=24 * 60, validation_alias="OHS_LOCKOUT_MINUTES")
    # Cookies marked Secure (served over HTTPS only): on behind the agency's TLS proxy, off for `make run` on http://127.0.0.1.
    secure_cookies: bool = Field(default=False, validation_alias="OHS_SECURE_COOKIES")

    # Operations (docs/operations.md): consumer lag and dead letters are measured from the broker this often;
    # logs are JSON lines (one object per line, for a collector) unless "text" (make run); traces are exported
    # over OTLP/HTTP to this endpoint (e.g. http://collector:4318) when set, nowhere by default.
    lag_interval_s: float = Field(default=15.0, gt=0, le=3600, validation_alias="OHS_LAG_INTERVAL_S")
    log_format: Literal["json", "text"] = Field(default="json", validation_alias="OHS_LOG_FORMAT")
    otlp_endpoint: str | None = Field(default=None, max_length=500, validation_alias="OHS_OTLP_ENDPOINT")
    # What is running, for ohs_build_info: set by the image build (deploy/); "dev" and the checkout's commit otherwise.
    build_version: str = Field(default="0.1.0", max_length=64, validation_alias="OHS_BUILD_VERSION")
    build_commit: str | None = Field(default=None, max_length=64, validation_alias="OHS_BUILD_COMMIT")

    def resolved_database_url(self) -> str:
        """DATABASE_URL, or an SQLite file of this service's own under the data folder."""
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.data_dir / (self.service_name + '.db')}"

    def consumer_group(self) -> str:
        return f"{self.consumer_group_prefix}.{self.service_name}"


DEFAULT_PORTS = {"console": 8000, "assessment": 8001, "registry": 8002, "sampling": 8003, "penalty": 8004, "monitoring": 8005, "notification": 8006}


def settings_for(service: str, **overrides) -> Settings:
    settings = Settings(**overrides)
    settings.service_name = service
    if settings.http_port is None:
        settings.http_port = DEFAULT_PORTS[service]
    return settings
