"""Typed callers. Every route receives exactly one of these from its policy dependency
(`servio.auth.dependencies`); repositories scope queries by `actor.tenant_id`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class StaffActor:
    user_id: str
    tenant_id: str
    outlet_id: str | None
    roles: tuple[str, ...]
    permissions: frozenset[str]
    session_id: str
    kind: Literal["staff"] = "staff"

    @property
    def id(self) -> str:
        return self.user_id

    def can(self, permission: str) -> bool:
        return permission in self.permissions


@dataclass(frozen=True)
class DeviceActor:
    """A registered device (KDS screen, printer bridge, POS terminal)."""

    device_id: str
    tenant_id: str
    outlet_id: str
    permissions: frozenset[str] = field(default_factory=frozenset)
    kind: Literal["device"] = "device"

    @property
    def id(self) -> str:
        return self.device_id

    def can(self, permission: str) -> bool:
        return permission in self.permissions


@dataclass(frozen=True)
class GuestActor:
    """A guest at a table: `member_id` is None until they join with a nickname."""

    session_id: str
    tenant_id: str
    outlet_id: str
    member_id: str | None = None
    kind: Literal["guest"] = "guest"

    @property
    def id(self) -> str:
        return self.member_id or f"session:{self.session_id}"


@dataclass(frozen=True)
class ProviderActor:
    """A platform operator. Not bound to a tenant."""

    admin_id: str
    kind: Literal["provider"] = "provider"
    tenant_id: None = None

    @property
    def id(self) -> str:
        return self.admin_id


@dataclass(frozen=True)
class SystemActor:
    """The worker, the scheduler, the CLI."""

    name: str = "system"
    tenant_id: str | None = None
    kind: Literal["system"] = "system"

    @property
    def id(self) -> str:
        return self.name


Actor = StaffActor | DeviceActor | GuestActor | ProviderActor
AnyActor = Actor | SystemActor
