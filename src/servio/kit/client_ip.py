"""The caller's IP address, for per-IP limits, lockouts and the audit log.

The socket peer is the answer unless the operator said a reverse proxy sits in front
(`TRUST_PROXY_HEADERS`) and the peer is one of the trusted proxies. Then we walk
`X-Forwarded-For` from the right — each proxy appends the address it saw — and stop at the
first address that is not a trusted proxy. Everything left of that point was written by the
client and is ignored, so a spoofed header cannot move a caller out of their rate-limit
bucket.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from starlette.requests import HTTPConnection

from servio.config import Settings

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

UNKNOWN_CLIENT = "unknown"


@lru_cache(maxsize=16)
def _trusted_networks(ips: tuple[str, ...], cidrs: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    # A bare IP is a /32 (or /128) network; strict=False tolerates host bits in CIDRs.
    return tuple(
        ipaddress.ip_network(entry.strip(), strict=False)
        for entry in (*ips, *cidrs)
        if entry.strip()
    )


def parse_ip(value: str) -> IPAddress | None:
    """An address from a header or socket entry: tolerates `[v6]:port`, `v4:port` and
    IPv4-mapped IPv6; returns None for anything that is not an address."""
    text = value.strip().strip('"')
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_trusted_proxy(address: IPAddress, settings: Settings) -> bool:
    networks = _trusted_networks(
        tuple(settings.trusted_proxy_ips), tuple(settings.trusted_proxy_cidrs)
    )
    return any(address.version == net.version and address in net for net in networks)


_PEERS_LIMIT = 4096
_peers: dict[str, tuple[IPAddress | None, str]] = {}


def _peer(peer_text: str) -> tuple[IPAddress | None, str]:
    """`parse_ip` and its text form, memoized: the same peers come back request after
    request, and parsing an address costs more than the rest of this module."""
    known = _peers.get(peer_text)
    if known is None:
        if len(_peers) >= _PEERS_LIMIT:
            _peers.clear()
        peer = parse_ip(peer_text)
        known = _peers[peer_text] = (peer, str(peer) if peer is not None else "")
    return known


def client_ip(connection: HTTPConnection, settings: Settings) -> str:
    """The client address for a request or WebSocket (see the module docstring)."""
    client = connection.scope.get("client")
    peer_text = client[0] if client else ""
    peer, peer_str = _peer(peer_text)
    if peer is None:
        return peer_text or UNKNOWN_CLIENT
    if not settings.trust_proxy_headers or not is_trusted_proxy(peer, settings):
        return peer_str
    forwarded = ",".join(connection.headers.getlist("x-forwarded-for"))
    nearest_trusted = peer
    for entry in reversed([part for part in forwarded.split(",") if part.strip()]):
        hop = parse_ip(entry)
        if hop is None:
            # Proxies only append real addresses, so garbage was client-written: stop at
            # the last hop a trusted proxy vouched for.
            break
        if not is_trusted_proxy(hop, settings):
            return str(hop)
        nearest_trusted = hop
    return str(nearest_trusted)
