"""Guest feedback use cases (GUEST-10): a member leaves a thumbs up/down (optionally about
one order) or an NPS score; managers page through it and read a summary for a date range
on the outlet's clock.

Feedback is accepted while the table session is active and for `FEEDBACK_AFTER_CLOSE`
(2 h) after it closed — the moment guests are asked how it went is often right after
paying, when staff have already closed the table. A purged session takes no feedback.
One NPS answer per member and session (409 FEEDBACK_EXISTS); thumbs may be given for
each order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from servio.auth.actors import GuestActor, StaffActor
from servio.feedback.nps import Nps, nps_from_counts
from servio.feedback.repository import FeedbackRepository
from servio.feedback.schemas import NpsFeedbackCreate, ThumbsFeedbackCreate
from servio.kit.clock import utcnow
from servio.kit.db import UnitOfWork
from servio.kit.errors import NotFound, ProblemError
from servio.kit.pagination import DEFAULT_LIMIT
from servio.models.guest_feedback import GuestFeedback
from servio.sessions.exceptions import SessionExpired
from servio.sessions.repository import SessionRepository

FEEDBACK_AFTER_CLOSE = timedelta(hours=2)
DEFAULT_SUMMARY_DAYS = 30
MAX_SUMMARY_DAYS = 366
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2999, 12, 31)
RECENT_COMMENTS = 10


class FeedbackExists(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            409,
            "FEEDBACK_EXISTS",
            "you already gave a score for this visit",
            hint="each guest answers the 0-10 question once per visit",
        )


class UnknownOrder(ProblemError):
    def __init__(self) -> None:
        super().__init__(422, "UNKNOWN_ORDER", "order_id is not an order of this table session")


class InvalidRange(ProblemError):
    def __init__(self, detail: str) -> None:
        super().__init__(
            422,
            "INVALID_RANGE",
            detail,
            hint=f"send from <= to, at most {MAX_SUMMARY_DAYS} days apart (YYYY-MM-DD)",
        )


class OutletRequired(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            422,
            "OUTLET_REQUIRED",
            "feedback belongs to one outlet, and no outlet is selected",
            hint="send X-Outlet-ID",
        )


def acting_outlet(actor: StaffActor) -> str:
    if actor.outlet_id is None:
        raise OutletRequired()
    return actor.outlet_id


async def submit(
    uow: UnitOfWork, actor: GuestActor, body: ThumbsFeedbackCreate | NpsFeedbackCreate
) -> GuestFeedback:
    if actor.member_id is None:  # pragma: no cover - the route requires a member token
        raise SessionExpired()
    now = utcnow()
    # The session row lock orders concurrent answers of one table, so "one NPS per member"
    # holds without a check-then-act race (SQLite already serialises writers).
    session = await SessionRepository(uow.session, actor.tenant_id).get(
        actor.session_id, for_update=True
    )
    if session is None or not _accepts_feedback(session.state, session.closed_at, now):
        raise SessionExpired()
    repo = FeedbackRepository(uow.session, actor.tenant_id)
    row = GuestFeedback(
        outlet_id=session.outlet_id,
        session_id=session.id,
        member_id=actor.member_id,
        kind=body.kind,
        comment=body.comment,
        created_at=now,
    )
    if isinstance(body, NpsFeedbackCreate):
        if await repo.nps_given(session.id, actor.member_id):
            raise FeedbackExists()
        row.score = body.score
    else:
        if body.order_id is not None and not await repo.order_in_session(body.order_id, session.id):
            raise UnknownOrder()
        row.thumbs_up = body.thumbs_up
        row.order_id = body.order_id
    return await repo.add(row)


def _accepts_feedback(state: str, closed_at: datetime | None, now: datetime) -> bool:
    if state == "active":
        return True
    return state == "closed" and closed_at is not None and now - closed_at <= FEEDBACK_AFTER_CLOSE


async def list_feedback(
    uow: UnitOfWork, actor: StaffActor, *, cursor: str | None, limit: int = DEFAULT_LIMIT
) -> tuple[list[GuestFeedback], str | None]:
    outlet_id = acting_outlet(actor)
    repo = FeedbackRepository(uow.session, actor.tenant_id)
    return await repo.list_page(GuestFeedback.outlet_id == outlet_id, cursor=cursor, limit=limit)


@dataclass(frozen=True)
class Summary:
    from_date: date
    to_date: date
    thumbs_up: int
    thumbs_down: int
    nps: Nps
    recent_comments: Sequence[GuestFeedback]


def summary_window(from_date: date | None, to_date: date | None, today: date) -> tuple[date, date]:
    """The inclusive day range asked for; the last 30 days up to today by default."""
    for asked in (from_date, to_date):
        # Outside these, the window arithmetic and the outlet-to-UTC shift overflow `date`.
        if asked is not None and not EARLIEST_DAY <= asked <= LATEST_DAY:
            raise InvalidRange(f"dates must fall between {EARLIEST_DAY} and {LATEST_DAY}")
    end = to_date or (from_date + timedelta(days=DEFAULT_SUMMARY_DAYS - 1) if from_date else today)
    start = from_date or end - timedelta(days=DEFAULT_SUMMARY_DAYS - 1)
    if start > end:
        raise InvalidRange("from is after to")
    if (end - start).days + 1 > MAX_SUMMARY_DAYS:
        raise InvalidRange(f"the range is longer than {MAX_SUMMARY_DAYS} days")
    return start, end


def _utc_bounds(start: date, end: date, timezone: str) -> tuple[datetime, datetime]:
    """[start 00:00, end + 1 day 00:00) outlet time, in UTC."""
    zone = ZoneInfo(timezone)
    lower = datetime.combine(start, time.min, tzinfo=zone).astimezone(UTC)
    upper = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
    return lower, upper


async def summarize(
    uow: UnitOfWork, actor: StaffActor, from_date: date | None, to_date: date | None
) -> Summary:
    outlet_id = acting_outlet(actor)
    repo = FeedbackRepository(uow.session, actor.tenant_id)
    timezone = await repo.outlet_timezone(outlet_id)
    if timezone is None:
        raise NotFound("outlet")
    today = utcnow().astimezone(ZoneInfo(timezone)).date()
    start, end = summary_window(from_date, to_date, today)
    lower, upper = _utc_bounds(start, end, timezone)
    thumbs = await repo.thumbs_counts(outlet_id, lower, upper)
    return Summary(
        from_date=start,
        to_date=end,
        thumbs_up=thumbs.get(True, 0),
        thumbs_down=thumbs.get(False, 0),
        nps=nps_from_counts(await repo.nps_counts(outlet_id, lower, upper)),
        recent_comments=await repo.recent_comments(outlet_id, lower, upper, RECENT_COMMENTS),
    )
