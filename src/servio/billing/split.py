"""Split bills (BEY-02). Pure: no I/O.

Every mode divides one amount — the invoice's balance due when the split is made (before
any payment that is the payable total) — into parts that sum to it exactly, none negative:

- `by_guest`: each member pays what they ordered. The amount is first allocated over the
  invoice's lines in proportion to each line's value (`kit.money.allocate`, largest
  remainder), so tax, service charge, tip, discounts and round-off are shared the way the
  food is; then each member's lines are summed. A `shared` line's share is divided evenly
  (`kit.money.split_evenly`) among the members named for it. A member who ordered nothing
  gets a part of 0; lines no member ordered (entered by staff) go to a `Table` part.
- `by_items`: named parts listing line refs; every line exactly once.
- `even`: `n` equal parts (2…50), the larger ones first, differing by at most 1.
- `by_amount`: named parts with amounts that add up exactly to the amount.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

from servio.kit.errors import ProblemError
from servio.kit.money import allocate, split_evenly

SplitMode = Literal["by_guest", "by_items", "even", "by_amount"]
MIN_PARTS: Final = 2
MAX_PARTS: Final = 50
TABLE_LABEL: Final = "Table"


class SplitInvalid(ProblemError):
    def __init__(self, detail: str, hint: str) -> None:
        super().__init__(422, "SPLIT_INVALID", detail, hint=hint)


class SplitMismatch(ProblemError):
    def __init__(self, expected: int, got: int) -> None:
        super().__init__(
            422,
            "SPLIT_MISMATCH",
            f"the parts add up to {got}, the bill's balance is {expected}",
            hint="make the amounts add up exactly to balance_due",
            extra={"expected": expected, "got": got},
        )


@dataclass(frozen=True)
class SplitLine:
    """One invoice line as the split sees it: its ref, its value (the weight) and who
    ordered it."""

    ref: str
    weight: int
    member_id: str | None = None


@dataclass(frozen=True)
class Part:
    label: str
    amount: int
    member_id: str | None = None
    line_refs: tuple[str, ...] = field(default_factory=tuple)


def line_shares(amount: int, lines: Sequence[SplitLine]) -> dict[str, int]:
    """`amount` allocated over the lines by weight (evenly when every weight is 0)."""
    if not lines:
        return {}
    weights = [max(0, line.weight) for line in lines]
    shares = allocate(amount, weights) if sum(weights) > 0 else split_evenly(amount, len(lines))
    return {line.ref: share for line, share in zip(lines, shares, strict=True)}


def by_guest(
    amount: int,
    lines: Sequence[SplitLine],
    members: Sequence[tuple[str, str]],
    shared: Mapping[str, Sequence[str]] | None = None,
) -> list[Part]:
    """One part per member (`members`: (member_id, label) in join order), plus a `Table`
    part for lines no member ordered, when there are any (or nothing to weigh at all)."""
    shared = shared or {}
    member_ids = [member_id for member_id, _ in members]
    known_refs = {line.ref for line in lines}
    for ref, sharers in shared.items():
        if ref not in known_refs:
            raise SplitInvalid(f"line {ref!r} is not on this invoice", "use the lines' `ref`")
        if not sharers:
            raise SplitInvalid(f"nobody shares line {ref!r}", "name at least one member")
        unknown = [m for m in sharers if m not in member_ids]
        if unknown:
            raise SplitInvalid(
                f"{unknown[0]!r} is not a member of this table", "use the members' ids"
            )
        if len(set(sharers)) != len(sharers):
            raise SplitInvalid(f"line {ref!r} names a member twice", "name each sharer once")
    shares = line_shares(amount, lines)
    owed: dict[str | None, int] = dict.fromkeys(member_ids, 0)
    refs: dict[str | None, list[str]] = {m: [] for m in member_ids}
    rest_amount = 0 if lines else amount
    rest_refs: list[str] = []
    for line in lines:
        share = shares[line.ref]
        line_sharers = shared.get(line.ref)
        if line_sharers:
            ordered = [m for m in member_ids if m in line_sharers]
            for member_id, piece in zip(ordered, split_evenly(share, len(ordered)), strict=True):
                owed[member_id] += piece
                refs[member_id].append(line.ref)
        elif line.member_id in owed:
            owed[line.member_id] += share
            refs[line.member_id].append(line.ref)
        else:
            rest_amount += share
            rest_refs.append(line.ref)
    parts = [
        Part(label, owed[member_id], member_id, tuple(refs[member_id]))
        for member_id, label in members
    ]
    if rest_refs or rest_amount or not parts:
        parts.append(Part(TABLE_LABEL, rest_amount, None, tuple(rest_refs)))
    return parts


def by_items(
    amount: int, lines: Sequence[SplitLine], groups: Sequence[tuple[str, Sequence[str]]]
) -> list[Part]:
    """Named groups of line refs; each line must be in exactly one group."""
    if not MIN_PARTS <= len(groups) <= MAX_PARTS:
        raise SplitInvalid(
            f"a split needs {MIN_PARTS} to {MAX_PARTS} parts, got {len(groups)}",
            "list between 2 and 50 parts",
        )
    known = {line.ref for line in lines}
    seen: set[str] = set()
    for label, refs in groups:
        if not refs:
            raise SplitInvalid(f"part {label!r} has no lines", "give every part at least one line")
        for ref in refs:
            if ref not in known:
                raise SplitInvalid(f"line {ref!r} is not on this invoice", "use the lines' `ref`")
            if ref in seen:
                raise SplitInvalid(f"line {ref!r} is in two parts", "put each line in one part")
            seen.add(ref)
    missing = [line.ref for line in lines if line.ref not in seen]
    if missing:
        raise SplitInvalid(
            f"{len(missing)} line(s) are in no part (first: {missing[0]!r})",
            "put every line of the invoice in exactly one part",
        )
    shares = line_shares(amount, lines)
    return [
        Part(label, sum(shares[ref] for ref in refs), None, tuple(refs)) for label, refs in groups
    ]


def even(amount: int, n: int) -> list[Part]:
    if not MIN_PARTS <= n <= MAX_PARTS:
        raise SplitInvalid(
            f"an even split needs {MIN_PARTS} to {MAX_PARTS} parts, got {n}",
            "send `parts` as a number between 2 and 50",
        )
    return [Part(f"{i} of {n}", share) for i, share in enumerate(split_evenly(amount, n), 1)]


def by_amount(amount: int, parts: Sequence[tuple[str, int]]) -> list[Part]:
    if not MIN_PARTS <= len(parts) <= MAX_PARTS:
        raise SplitInvalid(
            f"a split needs {MIN_PARTS} to {MAX_PARTS} parts, got {len(parts)}",
            "list between 2 and 50 parts",
        )
    if any(value < 0 for _, value in parts):
        raise SplitInvalid("a part cannot be negative", "use amounts of 0 or more")
    got = sum(value for _, value in parts)
    if got != amount:
        raise SplitMismatch(amount, got)
    return [Part(label, value) for label, value in parts]
