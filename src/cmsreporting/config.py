"""Settings read from the environment (prefix CMSREPORTING_)."""

from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

LOOPBACK: tuple[IPv4Network | IPv6Network, ...] = (
    IPv4Network("127.0.0.0/8"),
    IPv6Network("::1/128"),
)


class Settings(BaseSettings):
    """Service configuration."""

    model_config = SettingsConfigDict(env_prefix="CMSREPORTING_", extra="ignore")

    database_url: str = Field(
        default="sqlite+aiosqlite:///./cmsreporting.db",
        description="SQLAlchemy async URL: sqlite+aiosqlite:///PATH or postgresql+asyncpg://…",
    )
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    max_json_depth: int = Field(default=64, ge=8)
    db_pool_size: int = Field(default=10, ge=1, description="Connections each worker keeps")
    db_max_overflow: int = Field(
        default=0,
        ge=0,
        description=(
            "Extra connections a worker may open beyond the pool under load (closed again when "
            "returned). Opening a PostgreSQL connection costs more than waiting for a pooled one"
        ),
    )
    db_pool_timeout: float = Field(
        default=10.0,
        gt=0,
        description="Seconds a request waits for a free connection before a 503 with Retry-After",
    )
    db_pool_recycle: int = Field(
        default=1800,
        ge=-1,
        description="Seconds after which a pooled connection is replaced (-1: never)",
    )
    db_pool_pre_ping: bool = Field(
        default=False,
        description=(
            "Test each connection on checkout (three round trips per request). Off: a connection "
            "the server dropped fails one request with 503 and is replaced"
        ),
    )
    db_echo: bool = False
    template_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description=(
            "Seconds a worker keeps a published template's row (status, dates) for GETs "
            "(0: read it on every request); its content is cached by digest regardless"
        ),
    )
    auth_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description=(
            "Seconds a worker remembers an authenticated token (0: ask the database on every "
            "request); a role or token changed in the database takes effect within this delay"
        ),
    )
    session_idle_seconds: int = Field(
        default=4 * 3600,
        ge=60,
        description="A web sign-in ends after this long without a request",
    )
    session_absolute_seconds: int = Field(
        default=7 * 24 * 3600,
        ge=300,
        description="A web sign-in ends this long after it began, however active",
    )
    cookie_secure: bool | None = Field(
        default=None,
        description=(
            "Mark the session cookies Secure (None: when the request came over HTTPS, as the "
            "proxy headers tell)"
        ),
    )
    token_default_days: int = Field(
        default=90, ge=1, le=3650, description="Days an API token lasts unless told otherwise"
    )
    password_min_length: int = Field(default=10, ge=8, le=64)
    signin_window_seconds: int = Field(
        default=15 * 60,
        ge=1,
        description="The window in which failed sign-ins are counted",
    )
    signin_account_failures: int = Field(
        default=5,
        ge=1,
        description="Failed sign-ins to one account in the window before it is throttled (429)",
    )
    signin_address_failures: int = Field(
        default=20,
        ge=1,
        description="Failed sign-ins from one client address in the window before it is throttled",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Least severe level logged"
    )
    log_format: Literal["auto", "json", "text"] = Field(
        default="auto",
        description="json: a JSON object a line; text: for people; auto: text on a terminal",
    )
    access_log: bool = Field(default=True, description="A log line per request")
    serve_worker_timeout_seconds: float = Field(
        default=60.0,
        gt=0,
        description=(
            "Seconds `serve --workers N` waits for a worker process to answer its supervisor "
            "(starting or serving) before replacing it"
        ),
    )
    metrics_enabled: bool = Field(default=True, description="Serve /metrics")
    metrics_allow: list[IPv4Network | IPv6Network] = Field(
        default_factory=lambda: list(LOOPBACK),
        description=(
            "Client networks allowed to read /metrics (JSON list, e.g. "
            '["127.0.0.1/32", "10.0.0.0/8"]); others get 404'
        ),
    )
    migrate_lock_timeout: float = Field(
        default=600.0,
        gt=0,
        description=(
            "PostgreSQL: seconds a starting server waits for another one's migration and load"
        ),
    )

    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The address people open the service at, for the links in e-mail",
    )
    invitation_days: int = Field(
        default=14, ge=1, le=90, description="Days an invitation's link can be used (once)"
    )
    reset_minutes: int = Field(
        default=60, ge=5, le=7 * 24 * 60, description="Minutes a password reset link works (once)"
    )
    reminder_days: list[int] = Field(
        default=[60, 30, 7, 1],
        description=(
            "Days before a cycle's due date on which `cmsreporting notify` reminds the focal "
            "points of member Parties that have not submitted (JSON list)"
        ),
    )
    mail_backend: Literal["smtp", "folder"] = Field(
        default="smtp",
        description="smtp: deliver through the SMTP server; folder: write each message to a file",
    )
    mail_folder: str = Field(
        default="./mail", description="Where the folder backend writes messages (.eml files)"
    )
    mail_from: str = Field(default="cmsreporting@localhost", description="The From address")
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        default="starttls",
        description=(
            "starttls: upgrade a plain connection (refuse a server that cannot); tls: TLS from "
            "the first byte (port 465); none: no encryption (a relay on this machine only)"
        ),
    )
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)
    mail_max_attempts: int = Field(
        default=8, ge=1, description="Attempts before a message is marked failed"
    )
    mail_retry_seconds: int = Field(
        default=60,
        ge=1,
        description="Wait after a first failed attempt; doubled after each further one (to 6 h)",
    )
    mail_send_interval_seconds: float = Field(
        default=0,
        ge=0,
        description=(
            "Seconds between deliveries of the outbox by each server process (0: none; run "
            "`cmsreporting mail send-pending` from a timer instead)"
        ),
    )

    export_folder: str = Field(
        default="./exports",
        description=(
            "Where cycle exports run as jobs write their files (a folder every server and "
            "worker reads and writes: a shared volume when they run on several machines)"
        ),
    )
    document_storage: str = Field(
        default="./documents",
        description=(
            "Where documents' files are kept, each once under its SHA-256: a folder (shared "
            "by every server when they run on several machines), or s3://BUCKET[/PREFIX] for "
            "S3-compatible object storage (credentials from AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY)"
        ),
    )
    document_s3_endpoint_url: str | None = Field(
        default=None, description="Endpoint of S3-compatible storage other than AWS's"
    )
    document_s3_region: str | None = Field(default=None, description="Region of the bucket")
    document_max_bytes: int = Field(
        default=100 * 1024 * 1024, ge=1, description="Largest document file accepted (413 above)"
    )
    document_party_max_bytes: int = Field(
        default=2 * 1024 * 1024 * 1024,
        ge=1,
        description=(
            "Most bytes one Party's library may hold: the sizes of all stored versions of its "
            "documents (413 above)"
        ),
    )
    document_zip_max_bytes: int = Field(
        default=1024 * 1024 * 1024,
        ge=1,
        description="Most bytes the members of an uploaded ZIP may hold unpacked (refused above)",
    )
    document_zip_max_ratio: int = Field(
        default=200,
        ge=1,
        description=(
            "Largest ratio of unpacked to packed size of an uploaded ZIP holding over 10 MiB "
            "unpacked (refused above, as a zip bomb)"
        ),
    )
    document_upload_folder: str | None = Field(
        default=None,
        description=(
            "Where resumable uploads keep their partial files (shared by every server when "
            "they run on several machines); by default a folder beside a folder "
            "DOCUMENT_STORAGE (DOCUMENT_STORAGE + '-uploads'), or the system's temporary "
            "folder with S3 storage"
        ),
    )
    document_upload_ttl_seconds: int = Field(
        default=24 * 3600,
        ge=60,
        description="Seconds an unfinished resumable upload is kept after its last change",
    )
    document_sweep_grace_seconds: int = Field(
        default=3600,
        ge=0,
        description=(
            "Age under which a stored file no row refers to is kept by the sweep (an upload "
            "in progress has written its file and not yet committed its row)"
        ),
    )
    export_ttl_seconds: int = Field(
        default=24 * 3600,
        ge=60,
        description="Seconds an export job's file can be downloaded; then it is deleted",
    )
    worker_concurrency: int = Field(
        default=2, ge=1, le=64, description="Jobs one `cmsreporting worker` runs at once"
    )
    worker_heartbeat_seconds: float = Field(
        default=10.0, gt=0, description="Seconds between a worker's heartbeats (PostgreSQL)"
    )
    worker_stalled_seconds: float = Field(
        default=30.0,
        gt=0,
        description=(
            "Seconds without a heartbeat after which a worker counts as dead and its running "
            "jobs are retried by another worker (PostgreSQL)"
        ),
    )


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings."""
    return Settings()
