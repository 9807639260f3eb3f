"""RFC 9457 Problem Details. Raise `ProblemError` (or a subclass) anywhere; the handlers in
`install_error_handlers` render `application/problem+json` with a stable `code` and optional
`hint`, or a small HTML page for browsers asking for `text/html` (403/404/500)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

PROBLEM_JSON = "application/problem+json"

# Called with (request, status, title, detail) to render browser error pages; the web
# package installs the real template renderer, the fallback is plain HTML.
HtmlRenderer = Callable[[Request, int, str, str], Response]


class ProblemError(Exception):
    """A failure the client should see. `code` is the stable machine code."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str | None = None,
        *,
        title: str | None = None,
        hint: str | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.title = title or HTTPStatus(status).phrase
        self.detail = detail or self.title
        self.hint = hint
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})
        super().__init__(f"{status} {code}: {self.detail}")

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://servio.dev/problems/{self.code.lower().replace('_', '-')}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        if instance:
            body["instance"] = instance
        if self.hint:
            body["hint"] = self.hint
        body.update(self.extra)
        return body


class NotFound(ProblemError):
    def __init__(self, what: str = "resource") -> None:
        super().__init__(404, "NOT_FOUND", f"{what} not found")


class Forbidden(ProblemError):
    def __init__(self, detail: str = "not allowed", code: str = "FORBIDDEN") -> None:
        super().__init__(403, code, detail)


class Unauthorized(ProblemError):
    def __init__(self, detail: str = "authentication required", code: str = "UNAUTHORIZED") -> None:
        super().__init__(401, code, detail, headers={"WWW-Authenticate": "Bearer"})


class Conflict(ProblemError):
    def __init__(self, code: str, detail: str, *, hint: str | None = None) -> None:
        super().__init__(409, code, detail, hint=hint)


_STATUS_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    409: "CONFLICT",
    410: "GONE",
    412: "VERSION_MISMATCH",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_ERROR",
    423: "LOCKED",
    429: "RATE_LIMIT",
    500: "INTERNAL_ERROR",
    503: "SERVICE_UNAVAILABLE",
}


def code_for_status(status: int) -> str:
    return _STATUS_CODES.get(status, HTTPStatus(status).name)


def problem_response(problem: ProblemError, request: Request | None = None) -> Response:
    instance = request.url.path if request is not None else None
    headers = dict(problem.headers)
    request_id = getattr(request.state, "request_id", None) if request is not None else None
    body = problem.body(instance)
    if request_id:
        body["request_id"] = request_id
    return Response(
        orjson.dumps(body), status_code=problem.status, media_type=PROBLEM_JSON, headers=headers
    )


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and not request.url.path.startswith(("/api/", "/g/", "/t/"))


def _plain_html(request: Request, status: int, title: str, detail: str) -> Response:
    from html import escape

    page = (
        f"<!doctype html><html lang=en><meta charset=utf-8><title>{status} {escape(title)}"
        f"</title><h1>{status} {escape(title)}</h1><p>{escape(detail)}</p>"
        "<p><a href=/>Back to Servio</a></p></html>"
    )
    return Response(page, status_code=status, media_type="text/html")


def render_problem(request: Request, problem: ProblemError) -> Response:
    if problem.status in (403, 404, 500) and _wants_html(request):
        renderer: HtmlRenderer = getattr(request.app.state, "html_error_renderer", _plain_html)
        response = renderer(request, problem.status, problem.title, problem.detail)
        response.headers.update(problem.headers)
        return response
    return problem_response(problem, request)


def validation_problem(exc: RequestValidationError) -> ProblemError:
    errors = [
        {
            "loc": [str(p) for p in err.get("loc", ())],
            "msg": err.get("msg", ""),
            "type": err.get("type", ""),
        }
        for err in exc.errors()
    ]
    return ProblemError(
        422,
        "VALIDATION_ERROR",
        "the request is not valid",
        title="Unprocessable Content",
        extra={"errors": errors},
    )


# PostgreSQL refuses a NUL character in text (22021) and in JSONB (22P05); SQLite stores it.
# Such input is the client's error (422), whichever column it was headed for.
UNSTORABLE_TEXT_SQLSTATES = frozenset({"22021", "22P05"})


def install_error_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ProblemError)
        return render_problem(request, exc)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return render_problem(request, validation_problem(exc))

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        problem = ProblemError(
            exc.status_code, code_for_status(exc.status_code), detail, headers=exc.headers
        )
        return render_problem(request, problem)

    async def on_crash(request: Request, exc: Exception) -> Response:
        problem = ProblemError(
            500,
            "INTERNAL_ERROR",
            "an unexpected error occurred",
            hint="the error was logged; quote the request_id to support",
        )
        return render_problem(request, problem)

    async def on_db_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DBAPIError)
        if getattr(exc.orig, "sqlstate", None) in UNSTORABLE_TEXT_SQLSTATES:
            problem = ProblemError(
                422, "INVALID_TEXT", "text must not contain NUL (\\u0000) characters"
            )
            return render_problem(request, problem)
        raise exc  # any other database error is a crash: logged, answered by `on_crash`

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(DBAPIError, on_db_error)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_crash)


# What every outlet-scoped staff route can answer before its own logic runs.
STAFF_OUTLET_ERRORS: tuple[tuple[int, str], ...] = (
    (401, "UNAUTHORIZED"),
    (403, "FORBIDDEN"),
    (422, "OUTLET_REQUIRED"),
)


def problem_responses(*codes: tuple[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting a route's error codes."""
    out: dict[int | str, dict[str, Any]] = {}
    for status, code in codes:
        entry = out.setdefault(
            status,
            {
                "description": HTTPStatus(status).phrase,
                "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
            },
        )
        entry["description"] = entry["description"] + f" · `{code}`"
    return out
