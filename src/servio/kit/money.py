"""Money arithmetic: integer minor units, `Decimal` rates, one explicit rounding per result.

Amounts are `int` minor units (paise, cents, satang) next to an ISO 4217 currency code.
Rates are percentages as `Decimal` (`Decimal("2.5")` means 2.5 %). Floats are refused with
`TypeError` everywhere: binary fractions cannot represent 0.1, and an invoice that is off by
a paisa does not reconcile.

Every rounding goes through `_round_ratio`, which works on exact integer fractions, so the
results never depend on a decimal context's precision.
"""

from __future__ import annotations

import re
from decimal import (
    ROUND_CEILING,
    ROUND_FLOOR,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    InvalidOperation,
)
from enum import StrEnum

__all__ = [
    "RoundingMode",
    "allocate",
    "apply_rate",
    "format_money",
    "from_minor",
    "inclusive_tax",
    "minor_unit_exponent",
    "parse_rate",
    "round_decimal",
    "round_to_nearest",
    "split_evenly",
    "to_minor",
]


class RoundingMode(StrEnum):
    """How a single rounding step resolves. Ties in the half modes are on the exact .5."""

    HALF_UP = "half_up"  # ties away from zero (2.5 -> 3, -2.5 -> -3), as on paper
    BANKERS = "bankers"  # ties to even (2.5 -> 2, 3.5 -> 4)
    CEIL = "ceil"  # towards +infinity
    FLOOR = "floor"  # towards -infinity
    HALF_DOWN = "half_down"  # ties towards zero (2.5 -> 2, -2.5 -> -2)

    @classmethod
    def _missing_(cls, value: object) -> RoundingMode | None:
        # Tenant settings spell them "half-up"; accept that and the decimal-module names.
        if not isinstance(value, str):
            return None
        key = value.strip().lower().replace("-", "_")
        return _ALIASES.get(key)

    @property
    def decimal_rounding(self) -> str:
        """The matching `decimal` module rounding constant."""
        return _DECIMAL_ROUNDING[self]


_ALIASES: dict[str, RoundingMode] = {
    **{mode.value: mode for mode in RoundingMode},
    "half_even": RoundingMode.BANKERS,
    "round_half_even": RoundingMode.BANKERS,
    "round_half_up": RoundingMode.HALF_UP,
    "round_half_down": RoundingMode.HALF_DOWN,
    "ceiling": RoundingMode.CEIL,
    "round_ceiling": RoundingMode.CEIL,
    "round_floor": RoundingMode.FLOOR,
}

_DECIMAL_ROUNDING: dict[RoundingMode, str] = {
    RoundingMode.HALF_UP: ROUND_HALF_UP,
    RoundingMode.BANKERS: ROUND_HALF_EVEN,
    RoundingMode.CEIL: ROUND_CEILING,
    RoundingMode.FLOOR: ROUND_FLOOR,
    RoundingMode.HALF_DOWN: ROUND_HALF_DOWN,
}

# ISO 4217 minor-unit exponents that differ from the usual 2.
# fmt: off
_ZERO_PLACES = ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG",
                "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF")
# fmt: on
_THREE_PLACES = ("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND")
_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(_ZERO_PLACES, 0),
    **dict.fromkeys(_THREE_PLACES, 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}
_DEFAULT_EXPONENT = 2
_CURRENCY_RE = re.compile(r"[A-Z]{3}")

# Symbols for the currencies Servio outlets actually use; others print their ISO code.
_SYMBOLS: dict[str, str] = {
    "INR": "₹",
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "THB": "฿",
    "SGD": "S$",
    "AUD": "A$",
    "LKR": "Rs ",
    "NPR": "Rs ",
}

# Values far beyond any bill; the cap keeps a hostile "1E+999999" from building huge ints.
_MAX_ADJUSTED_EXPONENT = 30
_MIN_EXPONENT = -40

_RATE_RE = re.compile(r"\d+(?:\.\d+)?")
MAX_RATE_PLACES = 4

# Only used for quantize in `round_decimal`: wide enough that quantize never overflows.
_WIDE = Context(prec=100, traps=[InvalidOperation])


# --- input guards ---------------------------------------------------------------------------


def _exponent(number: Decimal) -> int:
    exponent = number.as_tuple().exponent
    if not isinstance(exponent, int):  # "n"/"N"/"F" mark NaN and infinity
        raise ValueError(f"expected a finite number, got {number}")
    return exponent


def _require_int(name: str, value: object) -> int:
    if isinstance(value, float):
        raise TypeError(f"{name} must be an int number of minor units, not a float")
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    return value


def _require_decimal(name: str, value: object) -> Decimal:
    if isinstance(value, float):
        raise TypeError(f"{name} must be a Decimal (or str parsed to one), not a float")
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{name} must be a Decimal, got {type(value).__name__}")
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError(f"{name} must be a finite number, got {number}")
    if number and (number.adjusted() > _MAX_ADJUSTED_EXPONENT or _exponent(number) < _MIN_EXPONENT):
        raise ValueError(f"{name} is out of the supported range: {number}")
    return number


def _require_mode(value: object) -> RoundingMode:
    if isinstance(value, RoundingMode):
        return value
    if isinstance(value, str):
        return RoundingMode(value)
    raise TypeError(f"mode must be a RoundingMode, got {type(value).__name__}")


# --- rounding core ----------------------------------------------------------------------------


def _round_ratio(numerator: int, denominator: int, mode: RoundingMode) -> int:
    """Round the exact fraction numerator/denominator to an integer."""
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    quotient, remainder = divmod(numerator, denominator)  # floor division: 0 <= remainder
    if remainder == 0 or mode is RoundingMode.FLOOR:
        return quotient
    if mode is RoundingMode.CEIL:
        return quotient + 1
    twice = 2 * remainder
    if twice != denominator:
        return quotient + 1 if twice > denominator else quotient
    # Exactly halfway between quotient and quotient + 1; the value is positive iff quotient >= 0.
    if mode is RoundingMode.HALF_UP:
        return quotient + 1 if quotient >= 0 else quotient
    if mode is RoundingMode.HALF_DOWN:
        return quotient if quotient >= 0 else quotient + 1
    return quotient if quotient % 2 == 0 else quotient + 1  # bankers


def round_decimal(value: Decimal, mode: RoundingMode, exponent: Decimal = Decimal("1")) -> Decimal:
    """Round `value` to a power-of-ten `exponent` (`Decimal("0.01")`, `Decimal("1")`, ...)."""
    number = _require_decimal("value", value)
    step = _require_decimal("exponent", exponent)
    normal = step.normalize()
    sign, digits, places = normal.as_tuple()
    if sign or digits != (1,) or not isinstance(places, int):
        raise ValueError(f"exponent must be a positive power of ten, got {exponent}")
    return number.quantize(
        Decimal((0, (1,), places)), rounding=_require_mode(mode).decimal_rounding, context=_WIDE
    )


# --- currencies -------------------------------------------------------------------------------


def _currency_code(currency: object) -> str:
    if not isinstance(currency, str):
        raise TypeError(f"currency must be an ISO 4217 code string, got {type(currency).__name__}")
    code = currency.strip().upper()
    if not _CURRENCY_RE.fullmatch(code):
        raise ValueError(f"currency must be a 3-letter ISO 4217 code, got {currency!r}")
    return code


def minor_unit_exponent(currency: str) -> int:
    """Decimal places of the currency's minor unit: INR 2, JPY 0, KWD 3 (default 2)."""
    return _EXPONENTS.get(_currency_code(currency), _DEFAULT_EXPONENT)


def to_minor(amount: Decimal, currency: str, mode: RoundingMode | None = None) -> int:
    """Major units to minor units: `to_minor(Decimal("12.5"), "INR") == 1250`.

    Without `mode` the amount must already fit the currency (prices typed by a person);
    "12.345" INR then raises ValueError instead of silently losing a fraction of a paisa.
    """
    number = _require_decimal("amount", amount)
    places = minor_unit_exponent(currency)
    numerator, denominator = number.scaleb(places, context=_WIDE).as_integer_ratio()
    if mode is None:
        if denominator != 1:
            raise ValueError(
                f"{number} has more than {places} decimal places for {_currency_code(currency)}"
            )
        return numerator
    return _round_ratio(numerator, denominator, _require_mode(mode))


def from_minor(minor: int, currency: str) -> Decimal:
    """Minor units to major units with the currency's places: `from_minor(1250, "INR")` → 12.50."""
    value = _require_int("minor", minor)
    return Decimal(value).scaleb(-minor_unit_exponent(currency), context=_WIDE)


# --- rates ------------------------------------------------------------------------------------


def parse_rate(value: str | Decimal | int) -> Decimal:
    """Validate a percentage rate ("18", "2.5", "0.125"): 0 ≤ rate ≤ 100, ≤ 4 decimal places.

    Returns the canonical form without trailing zeros ("18.00" → Decimal("18")).
    """
    if isinstance(value, float):
        raise TypeError("rate must be a decimal string, not a float")
    if isinstance(value, bool) or not isinstance(value, str | Decimal | int):
        raise TypeError(f"rate must be a decimal string, got {type(value).__name__}")
    text = value.strip() if isinstance(value, str) else format(value, "f")
    if not _RATE_RE.fullmatch(text):
        if text.startswith("-"):
            raise ValueError(f"rate must not be negative, got {text!r}")
        raise ValueError(f"rate must be a plain decimal number like '18' or '2.5', got {text!r}")
    rate = Decimal(text)
    if rate > 100:
        raise ValueError(f"rate must be between 0 and 100 percent, got {text!r}")
    canonical = rate.normalize()
    if -_exponent(canonical) > MAX_RATE_PLACES:
        raise ValueError(f"rate allows at most {MAX_RATE_PLACES} decimal places, got {text!r}")
    if _exponent(canonical) > 0:
        canonical = canonical.quantize(Decimal(1))  # 1E+2 → 100
    return canonical


def apply_rate(minor: int, rate: Decimal, mode: RoundingMode) -> int:
    """`rate` percent of `minor`, computed exactly and rounded once: 2.5 % of 50000 → 1250."""
    value = _require_int("minor", minor)
    numerator, denominator = _require_decimal("rate", rate).as_integer_ratio()
    return _round_ratio(value * numerator, denominator * 100, _require_mode(mode))


def inclusive_tax(gross_minor: int, rate: Decimal, mode: RoundingMode) -> int:
    """Tax contained in a tax-inclusive amount: gross * rate / (100 + rate), rounded once."""
    value = _require_int("gross_minor", gross_minor)
    numerator, denominator = _require_decimal("rate", rate).as_integer_ratio()
    if numerator < 0:
        raise ValueError("rate must not be negative")
    return _round_ratio(value * numerator, 100 * denominator + numerator, _require_mode(mode))


# --- splitting and cash rounding ----------------------------------------------------------------


def split_evenly(total: int, n: int) -> list[int]:
    """Split `total` into `n` parts that sum to it exactly and differ by at most 1.

    The larger parts come first, so the same split is produced every time.
    """
    value = _require_int("total", total)
    parts = _require_int("n", n)
    if parts < 1:
        raise ValueError(f"n must be at least 1, got {parts}")
    base, extra = divmod(value, parts)
    return [base + 1 if index < extra else base for index in range(parts)]


def allocate(total: int, weights: list[int]) -> list[int]:
    """Split `total` in proportion to `weights` (largest remainder), summing to it exactly.

    Each part is the exact share rounded down or up; leftover units go to the largest
    fractional remainders, ties to the earlier weight. A zero weight always gets 0.
    """
    value = _require_int("total", total)
    if not weights:
        raise ValueError("weights must not be empty")
    checked = [_require_int("weight", weight) for weight in weights]
    if any(weight < 0 for weight in checked):
        raise ValueError("weights must not be negative")
    weight_sum = sum(checked)
    if weight_sum == 0:
        raise ValueError("weights must not all be zero")
    shares = [divmod(value * weight, weight_sum) for weight in checked]
    result = [quotient for quotient, _ in shares]
    leftover = value - sum(result)  # 0 <= leftover < len(weights) because divmod floors
    by_remainder = sorted(range(len(shares)), key=lambda index: (-shares[index][1], index))
    for index in by_remainder[:leftover]:
        result[index] += 1
    return result


def round_to_nearest(minor: int, step: int, mode: RoundingMode) -> tuple[int, int]:
    """Cash rounding to a multiple of `step` (100 paise = nearest ₹1).

    Returns `(rounded, round_off)` with `rounded == minor + round_off`; under the half modes
    |round_off| ≤ step / 2, under ceil/floor it is within [0, step) / (-step, 0].
    """
    value = _require_int("minor", minor)
    unit = _require_int("step", step)
    if unit < 1:
        raise ValueError(f"step must be a positive number of minor units, got {unit}")
    rounded = _round_ratio(value, unit, _require_mode(mode)) * unit
    return rounded, rounded - value


# --- display ----------------------------------------------------------------------------------


def _group_digits(digits: str, indian: bool) -> str:
    if len(digits) <= 3:
        return digits
    head, tail = digits[:-3], digits[-3:]
    size = 2 if indian else 3
    groups: list[str] = []
    while head:
        groups.insert(0, head[-size:])
        head = head[:-size]
    return ",".join([*groups, tail])


def format_money(minor: int, currency: str, locale: str = "en") -> str:
    """Human display: `format_money(12345678, "INR")` → "₹1,23,456.78", USD → "$123,456.78".

    Indian grouping (lakh/crore) applies to INR and to any "*-IN" locale; everything else
    groups by thousands. This is for screens and messages; APIs return integer minor units.
    """
    value = _require_int("minor", minor)
    code = _currency_code(currency)
    places = minor_unit_exponent(code)
    whole, fraction = divmod(abs(value), 10**places)
    indian = code == "INR" or locale.replace("_", "-").upper().endswith("-IN")
    number = _group_digits(str(whole), indian)
    if places:
        number = f"{number}.{fraction:0{places}d}"
    symbol = _SYMBOLS.get(code, f"{code} ")
    return f"{'-' if value < 0 else ''}{symbol}{number}"
