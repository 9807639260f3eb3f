"""Request and response bodies of the onboarding wizard, invoice numbering and licence usage.

Shape rules live here (Pydantic, 422 `VALIDATION_ERROR` naming the field); rules that
span fields with their own error codes (GSTIN, UPI VPA) are checked in `service.py`.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from servio.platform.hours import validate_business_hours, validate_holidays
from servio.platform.limits import LimitName
from servio.platform.schemas import check_currency, check_timezone
from servio.setup.gstin import STATE_CODES

Step = Literal["profile", "tax", "hours", "tables", "payments", "invoicing"]
# Wizard order; `finish` comes after the last one. `invoicing` may be saved at any time but
# is not part of the guided sequence (the defaults are fine for most outlets).
STEPS: tuple[Step, ...] = ("profile", "tax", "hours", "tables", "payments")
OPTIONAL_EXTRA_STEPS: tuple[Step, ...] = ("invoicing",)
REQUIRED_STEPS: tuple[Step, ...] = ("profile", "tax", "payments")

Language = Literal["en", "hi", "gu"]
GstMode = Literal["regular", "composition", "unregistered"]
GstRounding = Literal["item_wise", "invoice_total"]
RoundingMode = Literal["half_up", "bankers", "ceil", "floor"]
Rounding = Literal["nearest_1", "none"]
PaymentMode = Literal["cash", "card", "upi", "gateway"]
InvoiceReset = Literal["never", "financial_year", "calendar_year", "monthly"]

_FSSAI = re.compile(r"^\d{14}$")
_INVOICE_PREFIX = re.compile(r"^[A-Z0-9/-]{1,16}$")
MAX_TABLES_PER_STEP = 500
TABLE_LABEL_MAX = 32


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- wizard steps -----------------------------------------------------------------------------


class OnboardingStart(_Strict):
    new_outlet: bool = Field(
        default=False,
        description="true: set up a new outlet (created as `draft`, needs `outlets.manage`); "
        "false: the caller's current outlet (X-Outlet-ID or the session's outlet).",
    )
    outlet_name: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        default=None, description="Name of the new outlet until the profile step renames it."
    )


class ProfileStep(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    address: Annotated[str, Field(min_length=1, max_length=500)]
    logo_media_id: str | None = Field(
        default=None,
        description="An uploaded image (POST /api/v1/media) to use as the logo; "
        "absent keeps the current logo, null removes it.",
    )
    timezone: str = Field(description="IANA time zone.", examples=["Asia/Kolkata"])
    language: Language = Field(description="Default language of menus and receipts.")
    currency: str | None = Field(default=None, examples=["INR"])

    @field_validator("name", "address")
    @classmethod
    def _trimmed(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return check_timezone(value)

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str | None) -> str | None:
        return None if value is None else check_currency(value.upper())


class TaxStep(_Strict):
    gst_mode: GstMode
    gstin: str | None = Field(
        default=None,
        description="Required for regular and composition, absent for unregistered; "
        "checksum-validated and issued in `state_code`.",
        examples=["27AAPFU0939F1ZV"],
    )
    state_code: str = Field(description="GST state code of the outlet.", examples=["27"])
    prices_include_tax: bool = False
    gst_rounding: GstRounding = "item_wise"
    rounding_mode: RoundingMode = "half_up"
    rounding: Rounding = "none"
    fssai_license: str | None = Field(default=None, description="14-digit FSSAI licence number.")

    @field_validator("state_code")
    @classmethod
    def _state(cls, value: str) -> str:
        value = value.strip()
        if value not in STATE_CODES:
            raise ValueError(f"{value!r} is not a GST state code (01-38, 97 or 99)")
        return value

    @field_validator("gstin")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value if value is None or value.strip() else None

    @field_validator("fssai_license")
    @classmethod
    def _fssai(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not _FSSAI.match(value):
            raise ValueError("an FSSAI licence number has exactly 14 digits")
        return value


class HoursStep(_Strict):
    business_hours: dict[str, list[list[str]]] = Field(
        description="Per weekday (mon…sun) a list of [open, close] outlet-local times; "
        "a missing day is closed; an end at or before the start runs past midnight.",
        examples=[{"mon": [["11:00", "15:00"], ["18:00", "23:00"]]}],
    )
    holidays: list[str] = Field(default_factory=list, examples=[["2026-12-25"]])

    @field_validator("business_hours")
    @classmethod
    def _hours(cls, value: dict[str, list[list[str]]]) -> dict[str, list[list[str]]]:
        return validate_business_hours(value)

    @field_validator("holidays")
    @classmethod
    def _holidays(cls, value: list[str]) -> list[str]:
        return validate_holidays(value)


class TablesStep(_Strict):
    count: Annotated[int, Field(ge=1, le=MAX_TABLES_PER_STEP)] = Field(
        description="How many tables the outlet has; labels 1..count are created when missing "
        "(repeating the step never duplicates or deletes tables)."
    )
    label_fmt: Annotated[str, Field(min_length=3, max_length=24)] = Field(
        default="T{n}", description="Label pattern; `{n}` is the table number.", examples=["T{n}"]
    )
    seats: Annotated[int, Field(ge=1, le=50)] = 4

    @field_validator("label_fmt")
    @classmethod
    def _fmt(cls, value: str) -> str:
        value = value.strip()
        if "{n}" not in value:
            raise ValueError("label_fmt must contain {n}, e.g. 'Table {n}'")
        if "{" in value.replace("{n}", "") or "}" in value.replace("{n}", ""):
            raise ValueError("label_fmt may only use the {n} placeholder")
        return value

    def label(self, number: int) -> str:
        return self.label_fmt.replace("{n}", str(number))


class PaymentsStep(_Strict):
    payment_modes: Annotated[list[PaymentMode], Field(min_length=1, max_length=4)] = Field(
        examples=[["cash", "upi"]]
    )
    upi_vpa: str | None = Field(
        default=None,
        description="Required when `upi` is a payment mode, shaped `name@bank`.",
        examples=["spiceroute@okhdfc"],
    )

    @field_validator("payment_modes")
    @classmethod
    def _unique(cls, value: list[PaymentMode]) -> list[PaymentMode]:
        return list(dict.fromkeys(value))

    @field_validator("upi_vpa")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() if value is not None and value.strip() else None


class InvoicingStep(_Strict):
    prefix: str = Field(
        description="1-16 characters of A-Z, 0-9, '/' and '-'.", examples=["INV-SR/"]
    )
    reset: InvoiceReset = Field(
        default="financial_year",
        description="When the invoice sequence restarts at 1 (financial_year: every 1 April).",
    )

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        value = value.strip().upper()
        if not _INVOICE_PREFIX.match(value):
            raise ValueError("prefix: 1-16 characters of A-Z, 0-9, '/' and '-'")
        return value


class OnboardingRead(BaseModel):
    id: str
    onboarding_id: str = Field(description="Same as `id` (the seed's name).")
    outlet_id: str
    status: Literal["in_progress", "finished"]
    completed_steps: list[str]
    data: dict[str, Any] = Field(description="Each completed step's validated data by step name.")
    next_step: str | None = Field(
        description="The first step not completed yet, `finish` when only finishing is left, "
        "null once finished."
    )
    steps: list[str] = Field(description="The guided steps in wizard order.")
    optional_steps: list[str] = Field(description="Steps outside the guided sequence.")
    required_steps: list[str]
    missing_steps: list[str] = Field(description="Required steps not completed yet.")
    outlet_status: str
    outlet_version: int
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


# --- invoice numbering (SETUP-05) ------------------------------------------------------------


class InvoicingRead(BaseModel):
    outlet_id: str
    prefix: str
    reset: InvoiceReset
    version: int = Field(description="The outlet's version (send as If-Match to change it).")


# --- licence limits (SAAS-02) ------------------------------------------------------------------


class LimitUsageRead(BaseModel):
    name: LimitName
    used: int = Field(description="Tables, menu items, or megabytes of images (rounded up).")
    limit: int | None = Field(description="null = unlimited")
    remaining: int | None


class LimitsUsage(BaseModel):
    tenant_id: str
    plan: str
    items: list[LimitUsageRead]


class LimitsUpdate(_Strict):
    """Only the limits sent change; null returns that limit to the plan's default."""

    max_tables: Annotated[int, Field(ge=0, le=100_000)] | None = None
    max_menu_items: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    max_images_mb: Annotated[int, Field(ge=0, le=10_000_000)] | None = None
