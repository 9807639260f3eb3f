"""Per-request context variables, set by the request middleware and read by logging and
the audit log (so services need not thread request details through every call)."""

from __future__ import annotations

from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
client_ip_var: ContextVar[str | None] = ContextVar("client_ip", default=None)
tenant_var: ContextVar[str | None] = ContextVar("tenant", default=None)
user_var: ContextVar[str | None] = ContextVar("user", default=None)
