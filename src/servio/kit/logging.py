"""Structured logging: structlog in front, the standard library routed through the same
processors, one line per event as JSON (`LOG_FORMAT=json`) or readable text.

Every line passes `scrub_sensitive` last before rendering, whoever produced it (our code,
uvicorn, SQLAlchemy, a library): values under sensitive keys become "[redacted]" at any
depth, and emails, phone numbers and 12-digit UPI references inside free text are masked.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from servio.config import Settings
from servio.kit.context import request_id_var, tenant_var, user_var
from servio.kit.redaction import REDACTED, is_loggable_key

# Keys whose values are produced by us and never carry personal data; left as they are so
# timestamps and IDs stay greppable.
_STRUCTURAL_KEYS = frozenset(
    {
        "ts",
        "level",
        "logger",
        "req_id",
        "route",
        "method",
        "status",
        "latency_ms",
        "tenant",
        "user",
    }
)

_EMAIL_PART = r"[^\s@<>()\[\],;:\"]+"
_EMAIL = re.compile(rf"{_EMAIL_PART}@{_EMAIL_PART}\.{_EMAIL_PART}")
# Ten or more digits, optionally led by + and a country code, single spaces/dashes/dots
# allowed between digits: +91 98765 43210, 98765-43210, 9876543210, (+1) 415.555.0100.
_PHONE = re.compile(r"(?<![\w])\+?\(?\d{1,4}\)?(?:[\s.-]?\d){9,14}(?![\w])")
# UPI transaction references (UTR/RRN) are 12 digits.
_UTR = re.compile(r"(?<!\d)\d{12}(?!\d)")

_MAX_DEPTH = 8


def is_sensitive_key(key: object) -> bool:
    return isinstance(key, str) and not is_loggable_key(key)


def redact_text(text: str) -> str:
    """Mask emails, phone numbers and 12-digit payment references inside free text."""
    text = _EMAIL.sub("[email]", text)
    text = _UTR.sub("[ref]", text)
    return _PHONE.sub("[phone]", text)


def _scrub(value: Any, depth: int) -> Any:
    if depth > _MAX_DEPTH:
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {
            k: REDACTED if is_sensitive_key(k) else _scrub(v, depth + 1) for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [_scrub(v, depth + 1) for v in value]
    if isinstance(value, bytes):
        return redact_text(value.decode("utf-8", "replace"))
    if isinstance(value, int | float | bool) or value is None:
        return value
    return redact_text(str(value))


def scrub_sensitive(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: the last stop before rendering."""
    for key in list(event_dict):
        if key in _STRUCTURAL_KEYS:
            continue
        if is_sensitive_key(key):
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _scrub(event_dict[key], 0)
    return event_dict


def add_request_context(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Stamp the request ID, tenant and user from the request's context variables."""
    for key, var in (("req_id", request_id_var), ("tenant", tenant_var), ("user", user_var)):
        value = var.get()
        if value is not None:
            event_dict.setdefault(key, value)
    return event_dict


def _rename_event_level(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    level = event_dict.get("level")
    if isinstance(level, str):
        event_dict["level"] = level.lower()
    return event_dict


def _drop_color_message(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    # uvicorn duplicates its message with ANSI colours under `color_message`.
    event_dict.pop("color_message", None)
    return event_dict


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        _rename_event_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
        add_request_context,
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.stdlib.ExtraAdder(),
        _drop_color_message,
    ]


class _ServioHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler we installed, so reconfiguring replaces only ours."""


def configure_logging(settings: Settings, *, stream: TextIO | None = None) -> None:
    """Configure structlog and the standard library once per app (safe to repeat)."""
    level = logging.getLevelName(settings.log_level.upper())
    if not isinstance(level, int):
        level = logging.INFO

    renderer: Processor
    if settings.log_format == "json":
        renderer = structlog.processors.JSONRenderer(serializer=_json_dumps)
    else:
        renderer = structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )

    shared = _shared_processors()
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            scrub_sensitive,
            renderer,
        ],
    )
    handler = _ServioHandler(stream or sys.stdout)
    handler.setFormatter(formatter)

    root = logging.getLogger()
    for existing in [h for h in root.handlers if isinstance(h, _ServioHandler)]:
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    # uvicorn's own access log duplicates ours (and logs raw paths with tokens).
    logging.getLogger("uvicorn.access").disabled = True
    # Alembic announces every plugin it loads at INFO.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True


def _json_dumps(obj: MutableMapping[str, Any], **_kwargs: Any) -> str:
    import orjson

    return orjson.dumps(obj, default=str).decode()


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger
