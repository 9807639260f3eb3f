"""Runtime settings: one `Settings` model read from the environment, `.env` and an optional
JSON config file (`SERVIO_CONFIG_FILE`). Everything configurable goes through `get_settings()`.

Every field is documented in `.env.example`; `tests/test_config.py` keeps the two in sync.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "dev-secret-change-me", "secret"})
DEFAULT_SECRET = "dev-secret-change-me"


class JsonConfigFileSource(PydanticBaseSettingsSource):
    """Lowest-priority source: a JSON object in the file named by `SERVIO_CONFIG_FILE`."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = os.environ.get("SERVIO_CONFIG_FILE")
        if not path:
            return {}
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a JSON object")
        return {str(k).lower(): v for k, v in data.items()}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    # --- runtime ---
    app_env: Literal["dev", "test", "prod"] = "dev"
    host: str = "127.0.0.1"
    port: int = 8000
    public_base_url: str = ""
    secret_key: str = DEFAULT_SECRET
    embedded_worker: bool = True

    # --- storage ---
    database_url: str = "sqlite+aiosqlite:///./var/servio.db"
    database_echo: bool = False
    database_pool_size: int = 10
    database_statement_timeout_ms: int = 15000
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"
    redis_url: str = ""
    redis_key_prefix: str = "servio:"

    # --- media storage (uploaded images) ---
    storage_backend: Literal["local", "s3"] = "local"
    media_dir: str = "./var/media"  # local backend root
    s3_bucket: str = ""
    s3_region: str = ""
    s3_endpoint_url: str = ""  # empty = AWS; set for MinIO, R2 and other S3-compatible stores
    s3_access_key_id: str = ""  # empty = boto3's default credential chain
    s3_secret_access_key: str = ""
    s3_public_base_url: str = ""  # CDN/bucket URL serving keys directly; empty = served by us

    # --- auth ---
    access_token_ttl_minutes: int = 15
    refresh_token_ttl_days: int = 30
    pin_token_ttl_minutes: int = 12 * 60
    pin_lockout_threshold: int = 10
    pin_lockout_minutes: int = 30
    session_cookie_secure: bool = True
    session_cookie_ttl_hours: int = 12  # console cookie login; revocable on every request

    # --- http ---
    cors_origins: list[str] = Field(default_factory=list)
    strict_cors: bool = False
    trust_proxy_headers: bool = False
    trusted_proxy_ips: list[str] = Field(default_factory=list)
    trusted_proxy_cidrs: list[str] = Field(default_factory=list)
    guest_body_max_bytes: int = 256 * 1024
    max_conn_per_ip: int = 20
    ws_queue_max: int = 100
    ws_heartbeat_secs: float = 25.0
    guest_menu_cache_entries: int = 512  # rendered guest menus kept per process (LRU)

    # --- rate limits (requests per window) ---
    rate_limit_enabled: bool = True
    rate_guest_per_token_min: int = 120
    rate_guest_per_ip_min: int = 300
    rate_login_per_ip_min: int = 10
    rate_magic_link_per_ip_min: int = 2
    rate_magic_link_per_email_hour: int = 5
    rate_device_enroll_per_ip_hour: int = 10
    rate_refunds_per_user_hour: int = 50
    rate_pricing_preview_per_user_hour: int = 100
    rate_general_per_user_hour: int = 1000
    # An IP with this many auth failures within the window is refused for block_secs.
    auth_failure_block_threshold: int = 50
    auth_failure_window_secs: int = 600
    auth_failure_block_secs: int = 900

    # --- idempotency ---
    idempotency_ttl_hours: int = 24
    idempotency_lock_secs: int = 60

    # --- ops ---
    maintenance: bool = False
    maintenance_retry_after_secs: int = 300  # Retry-After sent with MAINTENANCE 503s
    metrics_enabled: bool = True
    metrics_token: str = ""
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"
    log_sample_2xx: float = 0.1
    log_sample_guest_4xx: float = 0.1
    job_heartbeat_required: bool = False
    job_heartbeat_ttl_seconds: int = 120

    # --- worker / outbox ---
    worker_poll_interval_secs: float = 1.0
    worker_batch_size: int = 50
    outbox_max_attempts: int = 5
    outbox_lease_secs: int = 60
    # Circuit breakers per destination (external POS, webhooks): kit/breaker.py.
    cb_failure_threshold: int = 8  # consecutive failures that open a destination's breaker
    cb_cooldown_sec: int = 600  # seconds it stays open before one half-open trial
    cb_halfopen_trials: int = 1  # calls let through while half-open
    cb_key_prefix: str = "cb:"  # Redis key prefix (after REDIS_KEY_PREFIX)

    # --- payments (gateways) and approvals ---
    gateway: Literal["stripe", "razorpay"] = "stripe"  # used when ENABLE_GATEWAY is on
    gateway_timeout_secs: float = 10.0  # per HTTP call to the gateway
    stripe_secret_key: str = ""
    stripe_webhook_secret: str = ""
    stripe_api_base: str = "https://api.stripe.com"
    razorpay_key_id: str = ""
    razorpay_key_secret: str = ""
    razorpay_webhook_secret: str = ""
    razorpay_api_base: str = "https://api.razorpay.com"
    approval_ttl_secs: int = 120  # a manager's PIN approval token lives this long

    # --- e-mail (SMTP) ---
    smtp_host: str = ""  # empty: e-mails are written to the log (console channel)
    smtp_port: int = 587
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_timeout_secs: float = 10.0
    email_from: str = "no-reply@servio.local"  # may include a name: "Cafe <a@b.example>"

    # --- notifications: webhooks, WhatsApp, SMS (notifications/) ---
    notify_http_timeout_secs: float = 10.0  # per HTTP call to a webhook or provider
    # Webhook/probe targets on loopback or private networks: allowed outside production
    # (local receivers), refused in production unless this is set (SSRF guard).
    webhook_allow_private_targets: bool | None = None
    webhook_secret_grace_hours: int = 24  # the previous secret still signs after a rotation
    # WhatsApp Cloud API (Meta). Empty token: messages go to the console channel.
    whatsapp_api_url: str = "https://graph.facebook.com/v21.0"
    whatsapp_phone_number_id: str = ""
    whatsapp_token: str = ""
    whatsapp_guest_updates_enabled: bool = False  # GUEST-11, with the WA_ENABLED flag
    # SMS over a Twilio-style API. Empty account: texts go to the console channel.
    sms_api_url: str = "https://api.twilio.com"
    sms_account_sid: str = ""
    sms_auth_token: str = ""
    sms_from: str = ""

    @field_validator("webhook_allow_private_targets", mode="before")
    @classmethod
    def _empty_means_default(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def private_webhook_targets_allowed(self) -> bool:
        if self.webhook_allow_private_targets is not None:
            return self.webhook_allow_private_targets
        return self.app_env != "prod"

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.app_env != "prod":
            return self
        problems: list[str] = []
        if self.secret_key.strip().lower() in PLACEHOLDER_SECRETS or len(self.secret_key) < 32:
            problems.append("SECRET_KEY must be a real secret of at least 32 characters")
        if self.strict_cors and "*" in self.cors_origins:
            problems.append("CORS_ORIGINS may not contain '*' when STRICT_CORS is on")
        if self.metrics_enabled and not self.metrics_token:
            problems.append("METRICS_TOKEN is required in production when metrics are enabled")
        if problems:
            raise ValueError("unsafe production settings: " + "; ".join(problems))
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def base_url(self) -> str:
        return (self.public_base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            file_secret_settings,
            JsonConfigFileSource(settings_cls),
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
