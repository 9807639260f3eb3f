"""Problems the setup routes answer with (stable codes, documented in the OpenAPI)."""

from __future__ import annotations

from collections.abc import Sequence

from servio.kit.errors import ProblemError


def _field_error(code: str, field: str, message: str, *, hint: str | None = None) -> ProblemError:
    """A 422 with its own code that still lists the failing field like `VALIDATION_ERROR`
    does, so a form can put the message next to the input."""
    return ProblemError(
        422,
        code,
        message,
        title="Unprocessable Content",
        hint=hint,
        extra={"errors": [{"loc": ["body", field], "msg": message, "type": code.lower()}]},
    )


def gstin_required(mode: str) -> ProblemError:
    return _field_error(
        "GSTIN_REQUIRED",
        "gstin",
        f"GST mode {mode!r} needs the outlet's GSTIN",
        hint="enter the 15-character GSTIN, or choose gst_mode 'unregistered'",
    )


def gstin_not_allowed() -> ProblemError:
    return _field_error(
        "GSTIN_NOT_ALLOWED",
        "gstin",
        "an unregistered business has no GSTIN",
        hint="remove the GSTIN, or choose gst_mode 'regular' or 'composition'",
    )


def gstin_invalid(reason: str) -> ProblemError:
    return _field_error("GSTIN_INVALID", "gstin", reason, hint="check the GSTIN for typos")


def gstin_state_mismatch(gstin_state: str, state_code: str) -> ProblemError:
    return _field_error(
        "GSTIN_STATE_MISMATCH",
        "state_code",
        f"the GSTIN was issued in state {gstin_state}, but state_code is {state_code}",
        hint=f"use state_code {gstin_state}, or the GSTIN registered in state {state_code}",
    )


def upi_vpa_required() -> ProblemError:
    return _field_error(
        "UPI_VPA_REQUIRED",
        "upi_vpa",
        "UPI payments need the outlet's UPI ID (VPA)",
        hint="enter it like name@bank, or remove 'upi' from payment_modes",
    )


def upi_vpa_invalid(value: str) -> ProblemError:
    return _field_error(
        "UPI_VPA_INVALID",
        "upi_vpa",
        f"{value!r} is not a UPI ID; it looks like name@bank",
    )


def unknown_media(media_id: str) -> ProblemError:
    return _field_error(
        "UNKNOWN_MEDIA",
        "logo_media_id",
        f"no uploaded image with id {media_id!r}",
        hint="upload the logo first (POST /api/v1/media) and send its id",
    )


def onboarding_finished() -> ProblemError:
    return ProblemError(
        409,
        "ONBOARDING_FINISHED",
        "this setup was already finished",
        hint="change the outlet in settings, or start a new onboarding session",
    )


def onboarding_incomplete(missing: Sequence[str]) -> ProblemError:
    return ProblemError(
        409,
        "ONBOARDING_INCOMPLETE",
        f"complete these steps first: {', '.join(missing)}",
        hint=f"POST /api/v1/onboarding/{{id}}/{missing[0]}" if missing else None,
        extra={"missing_steps": list(missing)},
    )


def outlet_required() -> ProblemError:
    return ProblemError(
        422,
        "OUTLET_REQUIRED",
        "no outlet is selected to set up",
        hint='send X-Outlet-ID, or start with {"new_outlet": true}',
    )
