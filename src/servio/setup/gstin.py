"""GSTIN (Indian GST identification number) checks. Pure: no I/O.

A GSTIN has 15 characters::

    27 AAPFU0939F 1 Z V
    |  |          | | └ check character (mod-36 checksum over the first 14)
    |  |          | └── "Z" by default
    |  |          └──── registration number for this PAN in the state: 1-9 then A-Z
    |  └─────────────── the holder's PAN: 5 letters, 4 digits, 1 letter
    └────────────────── state code (see `STATE_CODES`)

The check character follows the GSTN algorithm: each of the first 14 characters is read as
a base-36 digit (0-9, A-Z), multiplied by 1 and 2 alternately from the left, each product is
folded to `product // 36 + product % 36`, and the check digit is `(36 - sum % 36) % 36`.
"""

from __future__ import annotations

import re

__all__ = [
    "STATE_CODES",
    "gstin_check_char",
    "state_code_for",
    "state_name",
    "validate_gstin",
]

GSTIN_LENGTH = 15
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_PAN = re.compile(r"[A-Z]{5}[0-9]{4}[A-Z]")
_ENTITY = re.compile(r"[1-9A-Z]")

# GST state and union-territory codes. 25 (Daman and Diu) was merged into 26 in 2020 and
# 28 is the pre-2014 Andhra Pradesh; both still appear on older registrations.
STATE_CODES: dict[str, str] = {
    "01": "Jammu and Kashmir",
    "02": "Himachal Pradesh",
    "03": "Punjab",
    "04": "Chandigarh",
    "05": "Uttarakhand",
    "06": "Haryana",
    "07": "Delhi",
    "08": "Rajasthan",
    "09": "Uttar Pradesh",
    "10": "Bihar",
    "11": "Sikkim",
    "12": "Arunachal Pradesh",
    "13": "Nagaland",
    "14": "Manipur",
    "15": "Mizoram",
    "16": "Tripura",
    "17": "Meghalaya",
    "18": "Assam",
    "19": "West Bengal",
    "20": "Jharkhand",
    "21": "Odisha",
    "22": "Chhattisgarh",
    "23": "Madhya Pradesh",
    "24": "Gujarat",
    "25": "Daman and Diu",
    "26": "Dadra and Nagar Haveli and Daman and Diu",
    "27": "Maharashtra",
    "28": "Andhra Pradesh (before 2014)",
    "29": "Karnataka",
    "30": "Goa",
    "31": "Lakshadweep",
    "32": "Kerala",
    "33": "Tamil Nadu",
    "34": "Puducherry",
    "35": "Andaman and Nicobar Islands",
    "36": "Telangana",
    "37": "Andhra Pradesh",
    "38": "Ladakh",
    "97": "Other Territory",
    "99": "Centre Jurisdiction",
}


def state_name(code: str) -> str | None:
    """The state's name ("27" -> "Maharashtra"); None for an unknown code."""
    return STATE_CODES.get(code)


def gstin_check_char(first14: str) -> str:
    """The check character for the first 14 characters of a GSTIN (upper case)."""
    if len(first14) != GSTIN_LENGTH - 1:
        raise ValueError(f"need the first {GSTIN_LENGTH - 1} characters, got {len(first14)}")
    total = 0
    for index, char in enumerate(first14):
        value = _ALPHABET.find(char)
        if value < 0:
            raise ValueError(f"character {char!r} at position {index + 1} is not 0-9 or A-Z")
        product = value * (2 if index % 2 else 1)
        total += product // 36 + product % 36
    return _ALPHABET[(36 - total % 36) % 36]


def validate_gstin(value: str) -> str:
    """Return the GSTIN normalised (trimmed, upper case) or raise ValueError saying exactly
    what is wrong: length, characters, state code, PAN shape, entity number, the "Z"
    position, or the check character."""
    gstin = value.strip().upper()
    if len(gstin) != GSTIN_LENGTH:
        raise ValueError(f"a GSTIN has {GSTIN_LENGTH} characters, this one has {len(gstin)}")
    bad = [(i + 1, c) for i, c in enumerate(gstin) if c not in _ALPHABET]
    if bad:
        position, char = bad[0]
        raise ValueError(f"character {char!r} at position {position} is not a letter or digit")
    state = gstin[:2]
    if state not in STATE_CODES:
        raise ValueError(f"{state!r} is not a GST state code (01-38, 97 or 99)")
    if not _PAN.fullmatch(gstin[2:12]):
        raise ValueError(
            f"characters 3-12 ({gstin[2:12]!r}) must be a PAN: 5 letters, 4 digits, 1 letter"
        )
    if not _ENTITY.fullmatch(gstin[12]):
        raise ValueError(f"character 13 ({gstin[12]!r}) must be a registration number 1-9 or A-Z")
    if gstin[13] != "Z":
        raise ValueError(f"character 14 must be 'Z', not {gstin[13]!r}")
    expected = gstin_check_char(gstin[:14])
    if gstin[14] != expected:
        raise ValueError(
            f"the check character is {gstin[14]!r} but should be {expected!r}: the GSTIN has a typo"
        )
    return gstin


def state_code_for(gstin: str) -> str:
    """The state code a (validated) GSTIN was issued in: "27AAPFU0939F1ZV" -> "27"."""
    return validate_gstin(gstin)[:2]
