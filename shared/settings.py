"""Typed settings shared by every service, read from GOVIT_* environment variables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SUITE_SOURCE_PREFIX = "/govit/"  # the CloudEvents sources of the suite's own services
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
DEFAULT_JWT_SECRET = "govit-development-secret-change-me-0000"
DEFAULT_AUDIT_KEY = "govit-development-audit-key-change-me-00"


class StreamSettings(BaseSettings):
    """How the suite's stream is created; the bus reads these itself (GOVIT_STREAM_REPLICAS)."""

    model_config = SettingsConfigDict(
        env_prefix="GOVIT_", env_file=".env", extra="ignore", populate_by_name=True
    )

    stream_replicas: int = Field(
        default=1,
        ge=1,
        le=5,
        description="copies of the stream a JetStream cluster keeps (3 on a 3-server cluster); "
        "used when the stream is created, an existing stream keeps its own",
    )


class GovitSettings(StreamSettings):
    """Settings every govit process reads; services subclass this with their own."""

    environment: Literal["development", "test", "production"] = "development"
    var_dir: Path = Path("var")
    nats_url: str | None = Field(
        default=None,
        description="NATS server, or a cluster's servers comma-separated (the client connects to any "
        "and follows the others); unset means `govit up` starts an embedded one",
    )
    stream: str = Field(default="GOVIT", description="the suite's JetStream stream")
    subject_prefix: str = Field(default="govit", pattern=r"^[A-Za-z0-9_-]+$")
    duplicate_window_seconds: int = Field(default=600, ge=60)
    jwt_secret: SecretStr = SecretStr(DEFAULT_JWT_SECRET)
    jwt_issuer: str = "govit"
    jwt_audience: str = "govit"
    jwks_url: str | None = Field(default=None, description="OIDC JWKS endpoint; when set, tokens are RS/ES")
    jwt_max_ttl_seconds: int = Field(
        default=86400,
        ge=60,
        description="the furthest a token's exp may lie ahead of now; a token valid for longer is refused",
    )
    calendar_dir: Path | None = Field(
        default=None, description="loaded holiday notices; default var/calendar"
    )
    policy_dir: Path | None = Field(default=None, description="policy packs; default the shipped ones")
    clock_file: Path | None = Field(
        default=None,
        description="tests and demos only: a file holding the instant the services take as now (ISO 8601)",
    )
    audit_key: SecretStr = Field(
        default=SecretStr(DEFAULT_AUDIT_KEY),
        description="the key of the audit chain: every entry and every anchor is an HMAC under it; "
        "whoever lacks it cannot rewrite the chain unnoticed (refused in production unless set)",
    )
    audit_hash: Literal["sha256", "sm3"] = Field(
        default="sha256", description="hash of the audit chain's HMAC: sha256, or sm3 (GB/T 32905, 国密)"
    )
    audit_anchor_seconds: float = Field(
        default=300,
        gt=0,
        description="how often a service publishes its audit chain's head on the stream, if it moved",
    )
    otel_exporter: Literal["none", "console", "otlp"] = "none"
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="json: one JSON object per log line, with the service and the trace and span ids",
    )
    manual_events: list[str] = Field(
        default_factory=list,
        description="event types the authority may record by hand (POST /manual-events), as a JSON "
        "list; none by default: a deployment names the facts no system of its own publishes",
    )
    trusted_sources: dict[str, dict[str, list[str]]] = Field(
        default_factory=dict,
        description="event type (or *) → CloudEvents source → the jurisdictions it may speak for "
        '(or ["*"]), as JSON, believed besides the suite\'s own producer (/govit/<service>), e.g. '
        '{"govit.procurement.contract_filed.v1": {"urn:gov:bayingolin:procurement-platform": '
        '["bayingolin"]}}',
    )
    future_event_allowance_seconds: int = Field(
        default=300,
        ge=0,
        le=86_400,
        description="how far ahead of the consuming service's clock an event may be dated; a later "
        "one is dead-lettered (FutureDated)",
    )

    @field_validator("trusted_sources", mode="before")
    @classmethod
    def _sources_name_their_jurisdictions(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = json.loads(value)
        if isinstance(value, dict):
            for event_type, sources in value.items():
                if not isinstance(sources, dict):
                    raise ValueError(
                        f"GOVIT_TRUSTED_SOURCES[{event_type!r}] must map each source to the "
                        'jurisdictions it may speak for, e.g. {"urn:gov:zhonglou:project-system": '
                        '["zhonglou"]} (["*"] for every jurisdiction)'
                    )
                for source, jurisdictions in sources.items():
                    if str(source).startswith(SUITE_SOURCE_PREFIX):
                        raise ValueError(
                            f"GOVIT_TRUSTED_SOURCES: {source!r} is the suite's own source; each service "
                            "already believes its producer, and no other system may speak as it"
                        )
                    if not isinstance(jurisdictions, list) or not jurisdictions:
                        raise ValueError(
                            f"GOVIT_TRUSTED_SOURCES[{event_type!r}][{source!r}]: name the jurisdictions "
                            'it may speak for (a list; ["*"] for every jurisdiction)'
                        )
        return value

    @model_validator(mode="after")
    def _no_clock_file_in_production(self) -> GovitSettings:
        if self.environment == "production" and self.clock_file is not None:
            raise ValueError("GOVIT_CLOCK_FILE moves the services' clock; it is refused in production")
        return self

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> GovitSettings:
        if self.environment == "production" and self.jwks_url is None:
            secret = self.jwt_secret.get_secret_value()
            if secret == DEFAULT_JWT_SECRET or len(secret) < 32:
                raise ValueError(
                    "GOVIT_JWT_SECRET must be set to a secret of at least 32 characters in production"
                )
        return self

    @model_validator(mode="after")
    def _refuse_default_audit_key_in_production(self) -> GovitSettings:
        if self.environment == "production":
            key = self.audit_key.get_secret_value()
            if key == DEFAULT_AUDIT_KEY or len(key) < 32:
                raise ValueError(
                    "GOVIT_AUDIT_KEY must be set to a secret of at least 32 characters in production"
                )
        return self

    @property
    def calendar_path(self) -> Path:
        return self.calendar_dir or self.var_dir / "calendar"

    jwt_jurisdiction_claim: str = Field(
        default="jurisdiction",
        min_length=1,
        description="the token claim naming the jurisdiction code (or list of codes) its holder acts "
        "for; set it to the claim an OIDC provider issues",
    )


class ServiceSettings(GovitSettings):
    """Settings of one service. Subclasses set `service`, the default port and the database alias."""

    service: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str | None = None
    max_deliver: int = Field(default=6, ge=2, description="deliveries of one event before dead-lettering")
    ack_wait_seconds: float = Field(
        default=30,
        ge=1,
        le=3600,
        description="how long the broker waits for a delivery's answer before delivering it again "
        "(to this replica or another): what a replica killed mid-batch costs its events",
    )
    relay_batch: int = Field(default=200, ge=1)
    consumer_batch: int | None = Field(
        default=None,
        ge=1,
        le=256,
        description="events a consumer settles in one database transaction, acknowledged after the "
        "commit (tried whole, then each in a savepoint of its own when one fails); 1 commits every "
        "event on its own; unset: by database, growing with a backlog (batch_on)",
    )

    def batch_on(self, dialect: str) -> tuple[int, int]:
        """The least and the most events a consumer settles at once on this database (SQLAlchemy
        dialect name): GOVIT_CONSUMER_BATCH for both, or from 64 up to 64 on SQLite and to 256 on
        PostgreSQL (shared.puller.BatchSize). On SQLite statements are calls within the process and
        a batch holds the one write lock every HTTP write waits for; on PostgreSQL each statement is
        a round trip to the server, which a bigger batch shares among more events (a review
        catch-up: 1,490 events/s at 64, 1,789 at 256; on SQLite 2,087 at 64, 1,921 at 256)."""
        if self.consumer_batch is not None:
            return self.consumer_batch, self.consumer_batch
        return 64, 256 if dialect == "postgresql" else 64

    migrations_apart: bool = Field(
        default=True,
        description="a database behind the migrations' head is migrated by a child process, so that "
        "Alembic is never loaded into the service; false: in the service's own process",
    )
    max_json_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="largest request body other than a file upload; a larger one is refused (413)",
    )
    calendar_poll_seconds: float = Field(
        default=30,
        gt=0,
        description="how often a running service looks for holiday notices loaded into the calendar "
        "directory (`govit calendar load`, or a ConfigMap updated in place); a new one applies "
        "without a restart and moves the open deadlines it changes",
    )
    db_write_timeout_seconds: float = Field(
        default=30,
        gt=0,
        le=600,
        description="how long a write waits for SQLite's write lock before it is refused as busy (503)",
    )

    reading_pass_key: SecretStr | None = Field(
        default=None,
        description="the key review signs an expert's reading pass (阅卷凭证) with and intake checks it "
        "by; the same in both. Unset: derived from GOVIT_AUDIT_KEY, which they share already",
    )
    reading_pass_seconds: int = Field(
        default=900, ge=60, le=86400, description="how long a reading pass lets its expert read the materials"
    )

    @model_validator(mode="after")
    def _default_secret_only_on_loopback(self) -> ServiceSettings:
        # A service reachable from other hosts must not accept tokens signed with the secret
        # that ships in the source, whatever GOVIT_ENVIRONMENT says.
        if (
            self.jwks_url is None
            and self.jwt_secret.get_secret_value() == DEFAULT_JWT_SECRET
            and self.host not in LOOPBACK
        ):
            raise ValueError(f"GOVIT_JWT_SECRET must be set when listening on {self.host} (not loopback)")
        return self

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.var_dir / f'{self.service}.db').as_posix()}"
