"""Settings: every GNOMON_* variable, typed and documented, read once at the edges."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
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
    capture_environment: bool = Field(
        default=True,
        description="Record git state, Python version and installed packages at run start.",
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
    user: str | None = Field(
        default=None, description="User recorded on runs in embedded mode (default: the OS user)."
    )

    @property
    def store_uri(self) -> str:
        return self.uri or f"sqlite:///{self.home / 'gnomon.db'}"

    @property
    def artifact_root(self) -> str:
        return self.artifacts or str(self.home / "artifacts")


__all__ = ["Settings"]
