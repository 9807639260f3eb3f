"""Request helpers shared by the platform routes (and usable by any context with
versioned resources)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header

from servio.kit.errors import ProblemError


def parse_if_match(value: str | None) -> int | None:
    """`If-Match: 3`, `"3"` or `W/"3"` → 3; absent → None (no precondition)."""
    if value is None or not value.strip():
        return None
    tag = value.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise ProblemError(
            400,
            "INVALID_IF_MATCH",
            "If-Match must carry a version number",
            hint='send the resource\'s version, e.g. If-Match: "3"',
        )
    return int(tag)


def if_match_version(
    if_match: Annotated[
        str | None,
        Header(description="The version you last read; a stale one is refused with 412."),
    ] = None,
) -> int | None:
    """FastAPI dependency: the expected version from `If-Match`, or None."""
    return parse_if_match(if_match)


def etag(version: int) -> dict[str, str]:
    return {"ETag": f'"{version}"'}
