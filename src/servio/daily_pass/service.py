"""Daily pass use cases (GUEST-04): rotating the word (the 04:00 rota and the owner's
"rotate now"), showing its status to staff, and checking a guest's guess.

The plaintext word exists in exactly two places, briefly: the reply to the owner's
"rotate now", and the payload of the owner e-mail in the outbox until it is delivered
(the e-mail handler then scrubs it). The database keeps only the keyed hash; events,
audit entries and logs never carry the word.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from servio.audit import service as audit
from servio.auth.actors import GuestActor, StaffActor, SystemActor
from servio.config import Settings
from servio.daily_pass import words
from servio.daily_pass.repository import DailyPassRepository, OutletFacts
from servio.events import EventName
from servio.kit.clock import rfc3339, utcnow
from servio.kit.db import UnitOfWork
from servio.kit.errors import NotFound, ProblemError
from servio.kit.ids import new_id
from servio.kit.ratelimit import RateLimiter, too_many_requests
from servio.models.daily_pass import DailyPass
from servio.notifications.email import enqueue_email
from servio.platform import flags
from servio.platform.service import get_effective_settings, is_enabled
from servio.sessions.exceptions import SessionNotFound
from servio.sessions.lifecycle import guest_session
from servio.sessions.repository import SessionRepository
from servio.worker.dispatch import emit

# Wrong guesses a table gets before it must wait (every try counts, so the budget cannot be
# probed: the limiter is hit before the word is checked).
ATTEMPTS_PER_WINDOW = 5
ATTEMPT_WINDOW_SECS = 600

EMAIL_TEMPLATE = "daily_pass"


class OutletRequired(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            422,
            "OUTLET_REQUIRED",
            "the daily pass belongs to one outlet, and no outlet is selected",
            hint="send X-Outlet-ID",
        )


def acting_outlet(actor: StaffActor) -> str:
    if actor.outlet_id is None:
        raise OutletRequired()
    return actor.outlet_id


class PassInvalid(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            403,
            "PASS_INVALID",
            "that is not today's pass word",
            hint="ask a member of staff for today's pass word",
        )


@dataclass(frozen=True)
class PassPolicy:
    required: bool  # guests must enter the word before ordering
    rotating: bool  # the 04:00 rota runs for this outlet


@dataclass(frozen=True)
class Rotation:
    daily_pass: DailyPass
    word: str


async def pass_policy(uow: UnitOfWork, tenant_id: str, outlet_id: str) -> PassPolicy:
    required = bool(
        (await get_effective_settings(uow, tenant_id, outlet_id)).get("daily_pass_required")
    )
    flag_on = await is_enabled(uow, tenant_id, outlet_id, flags.DAILY_PASS)
    return PassPolicy(required=required, rotating=required or flag_on)


async def current_pass(uow: UnitOfWork, tenant_id: str, outlet_id: str) -> DailyPass | None:
    return await DailyPassRepository(uow.session, tenant_id).current(outlet_id, utcnow())


async def rotate(
    uow: UnitOfWork,
    settings: Settings,
    *,
    tenant_id: str,
    outlet_id: str,
    actor: StaffActor | SystemActor,
    replace: bool,
) -> Rotation | None:
    """Pick a new word for the outlet's current business day, valid from now until the
    next 04:00 outlet time, retire earlier days' words, and e-mail the word to the owners.

    `replace=False` (the rota) leaves a day that already has a word alone and returns None;
    `replace=True` (an owner's "rotate now") overwrites it."""
    repo = DailyPassRepository(uow.session, tenant_id)
    outlet = await repo.outlet(outlet_id)
    if outlet is None:
        raise NotFound("outlet")
    now = utcnow()
    day = words.business_date(now, outlet.timezone)
    word = words.new_word()
    values = {
        "id": new_id(),
        "outlet_id": outlet_id,
        "business_date": day,
        "word_hash": words.word_hash(settings.secret_key, outlet_id, day, word),
        "valid_from": now,
        "valid_until": words.next_rotation(now, outlet.timezone),
        "created_at": now,
    }
    if replace:
        await repo.replace(values)
    elif not await repo.insert_new(values):
        return None
    await repo.end_earlier(outlet_id, day, now)
    stored = await repo.for_day(outlet_id, day)
    assert stored is not None  # written above in this transaction
    facts = _facts(stored)
    await _email_owners(uow, repo, outlet, stored, word, manual=replace)
    await emit(
        uow,
        EventName.DAILY_PASS_ROTATED,
        tenant_id=tenant_id,
        outlet_id=outlet_id,
        payload={**facts, "rotated_by": "owner" if replace else "rota"},
        dedupe_key=f"daily_pass.rotated:{outlet_id}:{day.isoformat()}:{new_id()}",
    )
    if isinstance(actor, StaffActor):
        await audit.record(
            uow,
            actor,
            EventName.DAILY_PASS_ROTATED,
            subject_type="daily_pass",
            subject_id=stored.id,
            after=facts,
            outlet_id=outlet_id,
        )
    return Rotation(daily_pass=stored, word=word)


def _facts(daily_pass: DailyPass) -> dict[str, str]:
    """What may be said about a pass anywhere: never the word, never its hash."""
    return {
        "outlet_id": daily_pass.outlet_id,
        "business_date": daily_pass.business_date.isoformat(),
        "valid_from": rfc3339(daily_pass.valid_from),
        "valid_until": rfc3339(daily_pass.valid_until),
    }


async def _email_owners(
    uow: UnitOfWork,
    repo: DailyPassRepository,
    outlet: OutletFacts,
    daily_pass: DailyPass,
    word: str,
    *,
    manual: bool,
) -> None:
    recipients = await repo.owner_emails()
    if not recipients:
        return
    day: date = daily_pass.business_date
    # The rota's e-mail is once per outlet and day; each rotation by hand gets its own.
    dedupe_key = f"daily_pass:{outlet.id}:{day.isoformat()}"
    if manual:
        dedupe_key += f":{new_id()}"
    await enqueue_email(
        uow,
        tenant_id=repo.tenant_id,
        outlet_id=outlet.id,
        to=recipients,
        template=EMAIL_TEMPLATE,
        context={
            "outlet_name": outlet.name,
            "word": word,
            "business_date": day.isoformat(),
            "valid_until_local": _local_text(daily_pass.valid_until, outlet.timezone),
            "manual": manual,
        },
        secret_fields=("word",),
        dedupe_key=dedupe_key,
    )


def _local_text(at: datetime, timezone: str) -> str:
    return at.astimezone(ZoneInfo(timezone)).strftime("%d %b %Y, %H:%M")


async def validate(
    uow: UnitOfWork,
    settings: Settings,
    limiter: RateLimiter,
    actor: GuestActor,
    session_id: str,
    word: str,
) -> None:
    """Check a guest's guess and mark the table's session validated.

    404 when `session_id` is not the caller's session, 410 SESSION_EXPIRED when it is no
    longer active, 429 RATE_LIMIT past the table's budget of tries, 403 PASS_INVALID for a
    wrong word (or when the outlet has no word today)."""
    if session_id != actor.session_id:
        raise SessionNotFound()
    session = await guest_session(uow, actor)
    if session.pass_validated:
        return  # nothing to check (and no guess to count)
    decision = await limiter.hit(
        f"daily_pass:session:{session.id}", ATTEMPTS_PER_WINDOW, ATTEMPT_WINDOW_SECS
    )
    if not decision.allowed:
        raise too_many_requests(decision.retry_after)
    current = await DailyPassRepository(uow.session, actor.tenant_id).current(
        session.outlet_id, utcnow()
    )
    if current is None or not words.matches(
        settings.secret_key, current.outlet_id, current.business_date, word, current.word_hash
    ):
        raise PassInvalid()
    await SessionRepository(uow.session, actor.tenant_id).set_pass_validated(session.id)
