"""`Idempotency-Key` for creating POSTs that touch money or orders (PLAT-09, api.md
"Idempotency"):

    @router.post("/orders", dependencies=[Depends(require_guest()), Depends(idempotent())],
                 responses=problem_responses(*IDEMPOTENCY_PROBLEMS, ...))

The route's policy dependency must come first: it sets `request.state.actor`, which is part
of the key's scope (tenant + caller + method + route template). Route-level `dependencies=`
run before parameter dependencies, so list the policy there too, ahead of `idempotent()`.

How one request out of many concurrent duplicates wins:
1. The key is claimed by an INSERT of an `in_flight` row that the unique (scope, key)
   constraint lets exactly one request commit — in its own short transaction when the
   request has not touched the database yet (see below for when it has).
2. The winner's reply is written onto that row by a `RequestHook` in the same transaction as
   the effect, so "effect committed" and "reply stored" are one fact. A 4xx business error is
   stored too (Stripe semantics: the same request gets the same answer); a crash or 5xx
   deletes the claim so the client can retry.
3. Losers read the row: same request and completed → the stored reply with
   `Idempotent-Replayed: true`; different body → 409 `IDEMPOTENCY_CONFLICT`; still running →
   409 `IDEMPOTENCY_IN_FLIGHT`. A claim whose lock ran out (the holder crashed) is taken over
   by a conditional UPDATE; the slow original then finds its token gone and rolls back.

When the policy already opened the request's transaction (`require_staff` reads the login
session), the claim joins that transaction instead. A second transaction would need a second
connection while this one is held — under a burst, every pooled connection can end up held
by a request waiting for another (pool deadlock), and on SQLite the open transaction holds
the only write lock, so it would wait on itself. Inside the request transaction the unique
constraint still decides the race: a duplicate's INSERT waits for the holder's transaction
(PostgreSQL waits on the uncommitted key; SQLite's BEGIN IMMEDIATE serialises writers), then
finds the completed row and replays it — so there duplicates wait for the answer instead of
getting `IDEMPOTENCY_IN_FLIGHT`, and a crash needs no cleanup because the rollback takes the
claim with it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Header, Request
from starlette.responses import Response

from servio.config import Settings, get_settings
from servio.kit.clock import utcnow
from servio.kit.db import Database, UnitOfWork
from servio.kit.errors import ProblemError, problem_response
from servio.kit.idempotency_repository import (
    COMPLETED,
    IN_FLIGHT,
    IdempotencyRepository,
    StoredReply,
)
from servio.kit.ids import new_id
from servio.kit.logging import get_logger
from servio.kit.policy import IDEMPOTENT_ATTR
from servio.kit.routing import EarlyResponse, RequestContext, request_context
from servio.ops.metrics import idempotency_conflicts_total, idempotency_hits_total

log = get_logger(__name__)

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 128
# UUIDs, hex and base64url (optionally padded) all fit this alphabet.
KEY_REGEX = r"[A-Za-z0-9_-]+={0,2}"
_KEY_PATTERN = re.compile(KEY_REGEX)
# Headers kept with a stored reply; everything else is recomputed on replay.
STORED_HEADERS = ("content-type", "location")
# Never stored: a retry later may well succeed.
_TRANSIENT_STATUSES = frozenset({408, 429})

# For `problem_responses(*IDEMPOTENCY_PROBLEMS, ...)` on idempotent routes.
IDEMPOTENCY_PROBLEMS: tuple[tuple[int, str], ...] = (
    (400, "IDEMPOTENCY_KEY_REQUIRED"),
    (400, "IDEMPOTENCY_KEY_INVALID"),
    (409, "IDEMPOTENCY_CONFLICT"),
    (409, "IDEMPOTENCY_IN_FLIGHT"),
)


def validate_key(raw: str | None) -> str:
    if raw is None or not raw.strip():
        raise ProblemError(
            400,
            "IDEMPOTENCY_KEY_REQUIRED",
            f"this request needs an {IDEMPOTENCY_HEADER} header",
            hint="send a fresh UUID per operation and reuse it on retries",
        )
    key = raw.strip()
    if len(key) > MAX_KEY_LENGTH or not _KEY_PATTERN.fullmatch(key):
        raise ProblemError(
            400,
            "IDEMPOTENCY_KEY_INVALID",
            f"{IDEMPOTENCY_HEADER} must be a UUID, hex or base64url string "
            f"of at most {MAX_KEY_LENGTH} characters",
        )
    return key


def fingerprint_body(body: bytes) -> str:
    """SHA-256 of the canonical JSON body (sorted keys, compact); an empty body hashes "".
    A body that is not JSON is hashed as sent."""
    if not body.strip():
        canonical = b""
    else:
        try:
            canonical = json.dumps(
                json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False
            ).encode()
        except ValueError:
            canonical = body
    return hashlib.sha256(canonical).hexdigest()


def idempotency_scope(tenant_id: str | None, actor: Any, method: str, route: str) -> str:
    scope = f"{tenant_id or '-'}|{actor.kind}:{actor.id}|{method.upper()}|{route}"
    # The column holds 255 characters; an unusually long route template is hashed.
    return scope if len(scope) <= 255 else "sha256:" + hashlib.sha256(scope.encode()).hexdigest()


@dataclass(frozen=True)
class IdempotencyClaim:
    """What an idempotent route holds while it runs (the dependency's value)."""

    key: str
    scope: str
    fingerprint: str
    tenant_id: str | None
    row_id: str
    claim_token: str
    in_request_transaction: bool  # the claim commits or rolls back with the request


# --- claiming -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Won:
    row_id: str
    claim_token: str


@dataclass(frozen=True)
class _Lost:
    reply: StoredReply | None  # None: conflict or in flight (see `problem`)
    problem: ProblemError | None = None


def _conflict() -> ProblemError:
    return ProblemError(
        409,
        "IDEMPOTENCY_CONFLICT",
        f"this {IDEMPOTENCY_HEADER} was already used for a different request",
        hint="use a new key for a new operation",
    )


def _in_flight() -> ProblemError:
    return ProblemError(
        409,
        "IDEMPOTENCY_IN_FLIGHT",
        "a request with this key is still being processed",
        hint="retry shortly",
        headers={"Retry-After": "1"},
    )


async def _attempt_claim(
    uow: UnitOfWork,
    *,
    key: str,
    scope: str,
    fingerprint: str,
    tenant_id: str | None,
    settings: Settings,
) -> _Won | _Lost | None:
    """One claim attempt; None means the row vanished between INSERT and SELECT (its holder
    released it), so the caller simply tries again."""
    repo = IdempotencyRepository(uow.session)
    now = utcnow()
    locked_until = now + timedelta(seconds=settings.idempotency_lock_secs)
    expires_at = now + timedelta(hours=settings.idempotency_ttl_hours)
    token = new_id()
    row_id = await repo.insert(
        tenant_id=tenant_id,
        scope=scope,
        key=key,
        fingerprint=fingerprint,
        claim_token=token,
        now=now,
        locked_until=locked_until,
        expires_at=expires_at,
    )
    if row_id is not None:
        return _Won(row_id, token)
    row = await repo.get(scope, key)
    if row is None:
        return None
    if row.expires_at > now:
        if row.fingerprint != fingerprint:
            return _Lost(None, _conflict())
        if row.state == COMPLETED:
            return _Lost(
                StoredReply(
                    row.response_status or 200, row.response_headers, row.response_body or b""
                )
            )
        if row.state == IN_FLIGHT and row.locked_until > now:
            return _Lost(None, _in_flight())
    if await repo.take_over(
        row_id=row.id,
        fingerprint=fingerprint,
        claim_token=token,
        now=now,
        locked_until=locked_until,
        expires_at=expires_at,
    ):
        log.info("idempotency_key_taken_over", scope=scope, previous_state=row.state)
        return _Won(row.id, token)
    return _Lost(None, _in_flight())  # another request took it over a moment ago


async def _claim(
    request: Request,
    ctx: RequestContext,
    *,
    key: str,
    scope: str,
    fingerprint: str,
    tenant_id: str | None,
    settings: Settings,
) -> _Won | _Lost:
    """Claim inside the request's transaction if it is open, else in a short one of its
    own (see the module docstring)."""
    db: Database = request.app.state.db
    for _ in range(3):
        if ctx.uow is not None:
            outcome = await _attempt_claim(
                ctx.uow,
                key=key,
                scope=scope,
                fingerprint=fingerprint,
                tenant_id=tenant_id,
                settings=settings,
            )
        else:
            async with db.unit_of_work(tenant_id=tenant_id, bypass_rls=tenant_id is None) as uow:
                outcome = await _attempt_claim(
                    uow,
                    key=key,
                    scope=scope,
                    fingerprint=fingerprint,
                    tenant_id=tenant_id,
                    settings=settings,
                )
        if outcome is not None:
            return outcome
    return _Lost(None, _in_flight())


# --- storing the reply ------------------------------------------------------------------


def _headers_json(headers: dict[str, str]) -> str:
    return json.dumps(headers, sort_keys=True, separators=(",", ":"))


def _reply_of(response: Response) -> StoredReply:
    headers = {name: response.headers[name] for name in STORED_HEADERS if name in response.headers}
    body = getattr(response, "body", None)
    if not isinstance(body, bytes | memoryview):
        log.warning("idempotency_reply_not_buffered", media_type=response.media_type)
        body = b""
    return StoredReply(response.status_code, _headers_json(headers), bytes(body))


def replay_response(reply: StoredReply) -> Response:
    headers: dict[str, str] = json.loads(reply.headers) if reply.headers else {}
    headers[REPLAYED_HEADER] = "true"
    return Response(content=reply.body, status_code=reply.status, headers=headers)


def _is_stored_error(exc: BaseException) -> bool:
    return (
        isinstance(exc, ProblemError)
        and 400 <= exc.status < 500
        and exc.status not in _TRANSIENT_STATUSES
    )


async def _audit(
    uow: UnitOfWork, actor: Any, claim: IdempotencyClaim, request: Request, status: int
) -> None:
    from servio.audit.service import record  # the audit context sits above kit

    await record(
        uow,
        actor,
        "idempotency.completed",
        subject_type="idempotency_key",
        subject_id=claim.row_id,
        tenant_id=claim.tenant_id,
        after={
            "idempotency_key": claim.key,
            "method": request.method,
            "route": claim.scope.rsplit("|", 1)[-1],
            "status": status,
        },
    )


class _ReplyRecorder:
    """The winner's `RequestHook`: stores the reply with the effect, or settles the claim
    when the request fails."""

    def __init__(self, request: Request, claim: IdempotencyClaim, actor: Any) -> None:
        self.request = request
        self.claim = claim
        self.actor = actor
        self.settled = False

    async def before_commit(self, uow: UnitOfWork, response: Response) -> None:
        reply = _reply_of(response)
        repo = IdempotencyRepository(uow.session)
        if not await repo.complete(
            row_id=self.claim.row_id, claim_token=self.claim.claim_token, reply=reply, now=utcnow()
        ):
            # Our lock ran out and another attempt took the key over: it owns the effect.
            self.settled = True
            raise _in_flight()
        await _audit(uow, self.actor, self.claim, self.request, reply.status)
        self.settled = True

    async def on_error(self, exc: BaseException) -> None:
        if self.settled:
            return
        self.settled = True
        claim = self.claim
        store = _is_stored_error(exc)
        if not store and claim.in_request_transaction:
            return  # the request's rollback already took the claim with it
        db: Database = self.request.app.state.db
        try:
            async with db.unit_of_work(
                tenant_id=claim.tenant_id, bypass_rls=claim.tenant_id is None
            ) as uow:
                repo = IdempotencyRepository(uow.session)
                if store:
                    assert isinstance(exc, ProblemError)
                    reply = _reply_of(problem_response(exc, self.request))
                    await self._store_problem(uow, repo, reply)
                else:
                    await repo.release(row_id=claim.row_id, claim_token=claim.claim_token)
        except Exception:
            # Never mask the request's own error; the claim's lock runs out on its own.
            log.exception("idempotency_settle_failed", scope=claim.scope)

    async def _store_problem(
        self, uow: UnitOfWork, repo: IdempotencyRepository, reply: StoredReply
    ) -> None:
        claim = self.claim
        now = utcnow()
        stored = await repo.complete(
            row_id=claim.row_id, claim_token=claim.claim_token, reply=reply, now=now
        )
        if not stored:
            # The claim lived in the (rolled back) request transaction: write it afresh,
            # unless someone else has claimed the key meanwhile.
            settings = _settings(self.request)
            stored = (
                await repo.insert(
                    tenant_id=claim.tenant_id,
                    scope=claim.scope,
                    key=claim.key,
                    fingerprint=claim.fingerprint,
                    claim_token=claim.claim_token,
                    now=now,
                    locked_until=now,
                    reply=reply,
                    expires_at=now + timedelta(hours=settings.idempotency_ttl_hours),
                )
                is not None
            )
        if stored:
            await _audit(uow, self.actor, claim, self.request, reply.status)


# --- the dependency ----------------------------------------------------------------------


def _settings(request: Request) -> Settings:
    settings = getattr(request.app.state, "settings", None)
    return settings if isinstance(settings, Settings) else get_settings()


def _route_template(request: Request) -> str:
    route = request.scope.get("route")
    return str(getattr(route, "path_format", None) or request.url.path)


IdempotencyDependency = Callable[..., AsyncIterator[IdempotencyClaim]]


def idempotent() -> IdempotencyDependency:
    """Dependency factory for idempotent routes (see the module docstring). The dependency's
    value is the `IdempotencyClaim` the request holds."""

    async def require_idempotency_key(
        request: Request,
        idempotency_key: Annotated[
            str | None,
            Header(
                alias=IDEMPOTENCY_HEADER,
                description="Client-generated key (UUID, hex or base64url, ≤ 128 characters). "
                "Retries with the same key and body replay the first reply.",
            ),
        ] = None,
    ) -> AsyncIterator[IdempotencyClaim]:
        key = validate_key(idempotency_key)
        actor = getattr(request.state, "actor", None)
        if actor is None:
            raise RuntimeError(
                "idempotent() ran before the route's policy dependency set request.state.actor;"
                " list the policy (require_staff/require_guest/...) before Depends(idempotent())"
                " in the route's dependencies"
            )
        settings = _settings(request)
        tenant_id: str | None = actor.tenant_id
        scope = idempotency_scope(tenant_id, actor, request.method, _route_template(request))
        fingerprint = fingerprint_body(await request.body())
        ctx = request_context(request)
        in_request_transaction = ctx.uow is not None
        outcome = await _claim(
            request,
            ctx,
            key=key,
            scope=scope,
            fingerprint=fingerprint,
            tenant_id=tenant_id,
            settings=settings,
        )
        if isinstance(outcome, _Lost):
            if outcome.reply is not None:
                idempotency_hits_total.inc()
                raise EarlyResponse(replay_response(outcome.reply))
            idempotency_conflicts_total.inc()
            assert outcome.problem is not None
            raise outcome.problem
        claim = IdempotencyClaim(
            key=key,
            scope=scope,
            fingerprint=fingerprint,
            tenant_id=tenant_id,
            row_id=outcome.row_id,
            claim_token=outcome.claim_token,
            in_request_transaction=in_request_transaction,
        )
        ctx.hooks.append(_ReplyRecorder(request, claim, actor))
        yield claim
        # The endpoint returned. `ServioRoute` stores the reply only through an open
        # transaction, so make sure there is one even if the endpoint never used it.
        await ctx.open()

    setattr(require_idempotency_key, IDEMPOTENT_ATTR, True)
    return require_idempotency_key


async def purge_expired(uow: UnitOfWork, now: datetime) -> int:
    """Delete keys past their 24 h retention; returns how many. Scheduled by the worker
    (run it with RLS bypassed: keys of every tenant expire)."""
    return await IdempotencyRepository(uow.session).purge_expired(now)
