from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from servio.platform.currencies import is_currency
from servio.platform.hours import validate_business_hours, validate_holidays

_LOCALE = re.compile(r"^[a-z]{2,3}(-[A-Z]{2})?$")
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")

Scope = Literal["tenant", "outlet"]
Source = Literal["default", "tenant", "outlet"]
Name = Annotated[str, Field(min_length=1, max_length=200)]


def check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA time zone {value!r} (e.g. Asia/Kolkata)") from None
    return value


def check_currency(value: str) -> str:
    if not is_currency(value):
        raise ValueError(f"{value!r} is not an active ISO 4217 currency code (e.g. INR)")
    return value


def check_locale(value: str) -> str:
    if not _LOCALE.match(value):
        raise ValueError("locale must look like en, hi or en-IN")
    return value


class TenantRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    slug: str
    status: str
    plan: str
    maintenance_until: datetime | None
    created_at: datetime


class OutletRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    timezone: str
    currency: str
    locale: str
    address: str
    business_hours: dict[str, list[list[str]]]
    holidays: list[str]
    qr_ordering_enabled: bool
    status: str
    version: int
    created_at: datetime
    updated_at: datetime


class OutletUpdate(BaseModel):
    """Only the fields sent are changed."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    timezone: str | None = Field(default=None, examples=["Asia/Kolkata"])
    currency: str | None = Field(default=None, examples=["INR"])
    locale: str | None = Field(default=None, examples=["en-IN"])
    address: str | None = Field(default=None, max_length=500)
    business_hours: dict[str, list[list[str]]] | None = Field(
        default=None,
        description="Per weekday (mon…sun) a list of [open, close] outlet-local times; "
        "a missing day is closed; an end at or before the start runs past midnight.",
        examples=[{"mon": [["11:00", "15:00"], ["18:00", "23:00"]]}],
    )
    holidays: list[str] | None = Field(
        default=None, description="Closed dates, outlet-local.", examples=[["2026-12-25"]]
    )

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        return None if value is None else check_timezone(value)

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str | None) -> str | None:
        return None if value is None else check_currency(value)

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str | None) -> str | None:
        return None if value is None else check_locale(value)

    @field_validator("business_hours")
    @classmethod
    def _hours(cls, value: dict[str, list[list[str]]] | None) -> dict[str, list[list[str]]] | None:
        return None if value is None else validate_business_hours(value)

    @field_validator("holidays")
    @classmethod
    def _holidays(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else validate_holidays(value)


class OutletCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    timezone: str = "Asia/Kolkata"
    currency: str = "INR"
    locale: str = "en"
    address: str = Field(default="", max_length=500)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return check_timezone(value)

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        return check_currency(value)

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        return check_locale(value)


class OwnerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=120)]
    email: Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    password: Annotated[str, Field(min_length=10, max_length=256)]


class TenantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    slug: str | None = Field(
        default=None,
        description="URL-safe; derived from the name when omitted.",
        examples=["spice-route"],
    )
    plan: Annotated[str, Field(min_length=1, max_length=32)] = "starter"
    outlet: OutletCreate
    owner: OwnerCreate

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str | None) -> str | None:
        if value is not None and not _SLUG.match(value):
            raise ValueError("slug: lowercase letters, digits and inner dashes, ≤ 64 chars")
        return value


class TenantCreated(BaseModel):
    tenant: TenantRead
    outlet: OutletRead
    owner_id: str


class MaintenanceUpdate(BaseModel):
    until: datetime | None = Field(description="End of the maintenance window; null ends it.")

    @field_validator("until")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("until must include a time zone offset (RFC 3339)")
        return value


class SettingRead(BaseModel):
    key: str
    value: Any
    source: Source
    type: str
    default: Any
    description: str
    version: int = Field(
        description="Version of the row at `source` (0 for a default); "
        "send it as If-Match when changing that scope."
    )
    versions: dict[Scope, int] = Field(
        description="Version per scope (0 = no row at that scope), for If-Match."
    )


class SettingsView(BaseModel):
    tenant_id: str
    outlet_id: str | None
    version: str = Field(description="Changes whenever any effective value or source changes.")
    items: list[SettingRead]


class SettingWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: Any = Field(examples=[900])
    scope: Scope = "outlet"


class FlagRead(BaseModel):
    name: str
    enabled: bool
    source: Source
    default: bool
    description: str


class FlagsView(BaseModel):
    tenant_id: str
    outlet_id: str | None
    items: list[FlagRead]


class FlagWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool
    scope: Scope = "outlet"
