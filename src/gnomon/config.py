"""Settings: every GNOMON_* variable, typed and documented, read once at the edges."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_home() -> Path:
    return Path.home() / ".gnomon"


class Settings(BaseSettings):
    """Configuration of a gnomon process.

    Built by the CLI callback, ``Client()`` and the server factory, then passed down; nothing
    reads the environment at import time.
    """

    model_config = SettingsConfigDict(env_prefix="GNOMON_", extra="ignore")

    home: Path = Field(
        default_factory=_default_home,
        description="Folder of the embedded default: the SQLite file and the artifacts.",
    )
    uri: str | None = Field(
        default=None,
        description="Metadata store: sqlite:///path, postgresql://user@host/db. "
        "Default: SQLite file gnomon.db under GNOMON_HOME.",
    )
    artifacts: str | None = Field(
        default=None,
        description="Artifact root: a local folder or s3://bucket/prefix. "
        "Default: the artifacts folder under GNOMON_HOME.",
    )
    workspace: str = Field(default="default", description="Workspace every call acts in.")
    experiment: str = Field(
        default="default", description="Experiment the fluent API logs to before set_experiment."
    )
    s3_endpoint_url: str | None = Field(
        default=None, description="Endpoint of S3-compatible storage (MinIO, moto, Ceph)."
    )
    flush_interval: float = Field(
        default=0.5,
        gt=0,
        le=60,
        description="Seconds the SDK buffers logged params, metrics and tags before writing.",
    )
    flush_size: int = Field(
        default=5000, ge=1, description="Buffered items that trigger a write before the interval."
    )
    retry_window_seconds: float = Field(
        default=300,
        ge=0,
        description="How long the SDK keeps retrying logged values the store cannot take "
        "(unreachable, 502/503/504, 429) before giving them up and saying so.",
    )
    retry_backoff_seconds: float = Field(
        default=0.2,
        gt=0,
        le=60,
        description="First pause before retrying a request to a remote server; it doubles "
        "after each failure.",
    )
    retry_backoff_max_seconds: float = Field(
        default=10, gt=0, description="Longest pause between retries of buffered writes."
    )
    buffer_max_items: int = Field(
        default=100_000,
        ge=1,
        description="Logged values kept in memory while the store is away; more are spilled "
        "to a file under GNOMON_HOME/spill and sent in order once it answers.",
    )
    capture_environment: bool = Field(
        default=True,
        description="Record git state, Python version and installed packages at run start.",
    )
    alert_channels: Path | None = Field(
        default=None,
        description="A JSON file of the operator's alert channels: commands "
        '({"retrain": ["program", "arg"]}) and mail servers with credentials, which only '
        "this file, never an API client, may define; each may be kept to some workspaces.",
    )
    alert_private_webhooks: bool = Field(
        default=False,
        description="Let the API server deliver alert webhooks to loopback, private and "
        "link-local addresses (off: a client's webhook cannot reach the server's network).",
    )
    system_metrics: bool = Field(
        default=False,
        description="Sample CPU, memory, disk, network and NVIDIA GPUs during every run and "
        "log them as system/... metrics (needs gnomon[system]; start_run's "
        "log_system_metrics overrides it per run).",
    )
    system_metrics_interval: float = Field(
        default=10,
        ge=0.1,
        le=3600,
        description="Seconds between two samples of system metrics.",
    )
    token: str | None = Field(
        default=None,
        description="API token for a remote server (else ~/.gnomon/credentials from gnomon login).",
    )
    ca_bundle: str | None = Field(
        default=None, description="CA bundle (PEM) that verifies the server's TLS certificate."
    )
    admin_password: str | None = Field(
        default=None,
        description="Password of the 'admin' user the server creates on first start "
        "(a one-time password is generated and printed when unset).",
    )
    max_body_bytes: int = Field(
        default=32 * 2**20, ge=1024, description="Largest JSON request body the server accepts."
    )
    max_artifact_bytes: int = Field(
        default=5 * 2**30, ge=1024, description="Largest artifact upload the server accepts."
    )
    serve_max_body_bytes: int = Field(
        default=16 * 2**20,
        ge=1024,
        description="Largest request body a model server (gnomon serve) reads on /predict, "
        "/invocations and /outcomes; larger ones are refused with 413 before they are read.",
    )
    user: str | None = Field(
        default=None, description="User recorded on runs in embedded mode (default: the OS user)."
    )
    audit_retention_days: int = Field(
        default=365,
        ge=0,
        le=36500,
        description="Days audit events are kept; older ones are deleted (at most hourly, as "
        "events are written). 0 keeps them forever.",
    )
    forwarded_allow_ips: str | None = Field(
        default=None,
        description="Proxies (comma-separated addresses or networks, or *) whose "
        "X-Forwarded-For both servers believe; default: none, not even loopback.",
    )
    online_store: str | None = Field(
        default=None,
        description="Online feature store: redis://host:port/db, or a SQLite file path "
        "(default: features/online.db under GNOMON_HOME).",
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="How gnomon processes write their log lines on stderr: text for people, "
        "or json, one object per line (timestamp, level, logger, message, request_id, user, "
        "workspace, object, exception) for ELK and other collectors (deploy/elk/).",
    )
    log_level: Literal["debug", "info", "warning", "error", "critical"] = Field(
        default="warning",
        description="Level of gnomon's and uvicorn's loggers; info adds a line per answered "
        "request (health probes and /metrics at debug). Other libraries log warnings and up.",
    )

    @field_validator("log_format", "log_level", mode="before")
    @classmethod
    def _lower_case(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @property
    def store_uri(self) -> str:
        return self.uri or f"sqlite:///{self.home / 'gnomon.db'}"

    @property
    def artifact_root(self) -> str:
        return self.artifacts or str(self.home / "artifacts")


__all__ = ["Settings"]
