"""Which printer addresses Servio may connect to (pure; no I/O).

The server itself opens the TCP connection to a printer's `host:port` — on save (test
page), every minute (health) and for every ticket — and the answer (online, offline, the
error text) is shown to the caller. Without a policy, anyone allowed to add a printer could
turn that into a probe or a raw-bytes cannon aimed *from the server*:

* link-local 169.254.0.0/16 (and fe80::/10) holds the cloud metadata service
  (169.254.169.254, fd00:ec2::254): credentials of the host, one TCP hop away;
* loopback (127.0.0.0/8, ::1, `localhost`) reaches services that trust local callers —
  Redis, PostgreSQL, the admin port — and a KOT's text is attacker-chosen bytes;
* 0.0.0.0 / :: mean "this host" on many stacks; multicast and reserved space are never
  printers.

Private LAN ranges (10/8, 172.16/12, 192.168/16, fc00::/7) stay allowed: that is where
kitchen printers live. Loopback is allowed when `app_env` is `dev` or `test`, so a
printer emulator on the developer's machine (and the tests' TCP listener) works.

Names are checked for syntax here and their *resolved* addresses again right before each
connection (`transport.resolve_allowed`), so a name that later resolves to a refused
address (DNS rebinding) is still refused.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Final

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA_ADDRESSES: Final = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
LOOPBACK_NAMES: Final = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class HostNotAllowed(ValueError):
    """The host is malformed or points somewhere a printer never is."""


def loopback_allowed(app_env: str) -> bool:
    return app_env in ("dev", "test")


def normalize_host(host: str) -> str:
    """Trimmed, lower-case, without IPv6 brackets or a trailing dot."""
    value = host.strip().lower()
    if value.startswith("[") and value.endswith("]"):
        value = value[1:-1]
    return value.removesuffix(".")


def check_address(address: IpAddress, *, allow_loopback: bool) -> None:
    """Raise `HostNotAllowed` for addresses a printer cannot legitimately have."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        check_address(address.ipv4_mapped, allow_loopback=allow_loopback)
        return
    if address in METADATA_ADDRESSES:
        raise HostNotAllowed("the cloud metadata address is not a printer")
    if address.is_link_local:
        raise HostNotAllowed("link-local addresses (169.254.0.0/16, fe80::/10) are refused")
    if address.is_loopback:
        if allow_loopback:
            return
        raise HostNotAllowed("loopback addresses are refused outside development")
    if address.is_unspecified:
        raise HostNotAllowed("0.0.0.0 / :: is not a printer address")
    if address.is_multicast:
        raise HostNotAllowed("multicast addresses are not printers")
    if address.is_reserved:
        raise HostNotAllowed("reserved addresses are not printers")


def validate_host(host: str, *, allow_loopback: bool) -> str:
    """The normalized host (an IP literal or an RFC 1123 name) or `HostNotAllowed`."""
    value = normalize_host(host)
    if not value:
        raise HostNotAllowed("host must not be empty")
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        address = None
    if address is not None:
        check_address(address, allow_loopback=allow_loopback)
        return str(address)
    if len(value) > 253:
        raise HostNotAllowed("host names are at most 253 characters")
    labels = value.split(".")
    if not all(_LABEL.match(label) for label in labels):
        raise HostNotAllowed("not a valid host name or IP address")
    if labels[-1].isdigit():  # "10.0.0" or "999.1.1.1": a malformed address, not a name
        raise HostNotAllowed("not a valid IP address")
    if (value in LOOPBACK_NAMES or labels[-1] == "localhost") and not allow_loopback:
        raise HostNotAllowed("loopback addresses are refused outside development")
    return value
