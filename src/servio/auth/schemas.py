from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class LoginRequest(BaseModel):
    email: str = Field(min_length=3, max_length=254, examples=["owner@bistro.example"])
    password: str = Field(min_length=1, max_length=1024)
    otp: str | None = Field(None, max_length=10, description="TOTP code when 2FA is enabled")


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires")


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=256)


class PinLoginRequest(BaseModel):
    outlet_id: str = Field(min_length=1, max_length=26)
    pin: str = Field(min_length=1, max_length=16, examples=["4821"])
    staff_id: str | None = Field(
        None,
        max_length=26,
        description="The staff member whose tile was tapped; wrong PINs then also count "
        "towards that person's lockout",
    )


class AliasPinLoginRequest(BaseModel):
    pin: str = Field(min_length=1, max_length=16)
    outlet_id: str | None = Field(None, max_length=26)
    staff_id: str | None = Field(None, max_length=26)


class PinToken(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    staff_id: str
    name: str
    outlet_id: str
    roles: list[str]


class ProviderLoginRequest(BaseModel):
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=1024)


class ProviderToken(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class OutletRef(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str


class TenantRef(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    slug: str


class StaffRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    email: str | None
    roles: list[str]
    is_active: bool
    deactivated_at: datetime | None
    last_login_at: datetime | None


class MeRead(BaseModel):
    user: StaffRead
    tenant: TenantRef
    outlet: OutletRef | None = Field(description="The outlet this request acts in")
    roles: list[str]
    permissions: list[str]
    outlets: list[OutletRef] = Field(description="Outlets this user may act in")
    session_id: str
