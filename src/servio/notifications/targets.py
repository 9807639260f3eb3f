"""Validation and display of notification targets: webhook URLs (with an SSRF guard),
E.164 phone numbers and e-mail lists. Whatever a person types is checked here before it is
stored, and checked again (URL) before every send, because DNS can change in between.
Displays and logs only ever see `mask_target`."""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import urlsplit, urlunsplit

from servio.config import Settings

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
MAX_EMAILS = 10


class InvalidTarget(ValueError):
    """A target that cannot be used; the message is safe to show to the person who typed it."""


def normalize_phone(raw: str) -> str:
    """`+91 98765-43210` → `+919876543210`; InvalidTarget unless it is E.164."""
    phone = re.sub(r"[\s().-]", "", raw or "")
    if not E164.match(phone):
        raise InvalidTarget("phone numbers are written in international form, e.g. +919876543210")
    return phone


def normalize_emails(raw: str) -> str:
    addresses = [a.strip() for a in re.split(r"[,;]", raw or "") if a.strip()]
    if not addresses:
        raise InvalidTarget("at least one e-mail address is required")
    if len(addresses) > MAX_EMAILS:
        raise InvalidTarget(f"at most {MAX_EMAILS} e-mail addresses")
    for address in addresses:
        if not EMAIL.match(address):
            raise InvalidTarget(f"{address!r} is not an e-mail address")
    return ", ".join(addresses)


def _private(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return bool(
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def normalize_webhook_url(raw: str, settings: Settings, *, resolve: bool = False) -> str:
    """An http(s) URL without credentials or fragment. Unless private targets are allowed
    (`WEBHOOK_ALLOW_PRIVATE_TARGETS`, default outside production) the host must not be, or
    (with `resolve`) resolve to, a loopback/private/link-local address."""
    url = (raw or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidTarget("webhook URLs start with https:// (or http://) and name a host")
    if parts.username or parts.password:
        raise InvalidTarget("webhook URLs may not carry credentials")
    if len(url) > 500:
        raise InvalidTarget("webhook URLs are at most 500 characters")
    if settings.app_env == "prod" and parts.scheme != "https":
        raise InvalidTarget("webhook URLs must use https in production")
    if not settings.private_webhook_targets_allowed:
        host = parts.hostname
        if host == "localhost" or host.endswith(".localhost"):
            raise InvalidTarget("webhook URLs may not point at this server's network")
        try:
            addresses = [host] if _is_ip(host) else (_resolve(host) if resolve else [])
        except OSError as exc:
            raise InvalidTarget(f"the host {host!r} does not resolve") from exc
        if any(_private(a) for a in addresses):
            raise InvalidTarget("webhook URLs may not point at a private or loopback address")
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _resolve(host: str) -> list[str]:
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None)})


def mask_target(channel: str, target: str) -> str:
    """What consoles, logs and the delivery log show: phones by their last 4 digits, e-mail
    local parts by their first letter, URLs without query string."""
    if not target:
        return ""
    if channel in ("whatsapp", "sms"):
        return f"…{target[-4:]}"
    if channel == "email":
        masked = []
        for address in target.split(","):
            local, _, domain = address.strip().partition("@")
            masked.append(f"{local[:1]}…@{domain}")
        return ", ".join(masked)
    if channel == "webhook" and "://" in target:
        parts = urlsplit(target)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        return urlunsplit((parts.scheme, f"{host}{port}", parts.path, "", ""))
    return target
