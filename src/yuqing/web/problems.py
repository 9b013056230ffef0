"""problem+json (RFC 9457) errors with stable codes; YuqingError subclasses map to their status."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from yuqing.errors import YuqingError

PROBLEM = "application/problem+json"

# Stable codes for plain HTTP statuses (raised by the framework rather than by us).
STATUS_CODES = {
    400: ("bad_request", "请求无效 / bad request"),
    401: ("authentication_required", "需要登录 / authentication required"),
    403: ("permission_denied", "无权限 / permission denied"),
    404: ("not_found", "未找到 / not found"),
    405: ("method_not_allowed", "方法不允许 / method not allowed"),
    409: ("conflict", "冲突 / conflict"),
    413: ("payload_too_large", "请求体过大 / payload too large"),
    422: ("validation_error", "参数无效 / invalid input"),
    429: ("too_many_requests", "请求过多 / too many requests"),
    500: ("internal_error", "内部错误 / internal error"),
    503: ("overloaded", "服务繁忙 / service overloaded"),
}


class BadRequest(YuqingError):
    code = "bad_request"
    http_status = 400


class CsrfFailed(YuqingError):
    code = "csrf_failed"
    http_status = 403


class Problem(BaseModel):
    """An RFC 9457 problem document; ``code`` is stable and machine-readable."""

    type: str
    title: str
    status: int
    code: str
    detail: str
    errors: list[dict[str, Any]] | None = None
    retry_after: int | None = None


def _problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM: {"schema": Problem.model_json_schema()}}}


# Documented on every API route (the OpenAPI schema lists the problem answers).
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _problem_response("Bad request (e.g. invalid_cursor)"),
    401: _problem_response("authentication_required / invalid_credentials"),
    403: _problem_response("permission_denied / csrf_failed"),
    404: _problem_response("not_found"),
    409: _problem_response("conflict"),
    413: _problem_response("payload_too_large"),
    422: _problem_response("validation_error"),
    429: _problem_response("too_many_requests"),
}


def problem(status: int, code: str, detail: str, **extra: Any) -> JSONResponse:
    title = STATUS_CODES.get(status, (code, code))[1]
    body = {"type": f"urn:yuqing:problem:{code}", "title": title, "status": status, "code": code}
    body["detail"] = detail
    body.update(extra)
    headers = {}
    if "retry_after" in extra:
        headers["Retry-After"] = str(extra["retry_after"])
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _wants_html(request: Request) -> bool:
    path = request.url.path
    return not path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


def _html_error(request: Request, status: int, code: str, detail: str) -> Response:
    if status == 401:
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
    from yuqing.web.pages.render import render_error

    return render_error(request, status, code, detail)


def install(app: FastAPI) -> None:
    @app.exception_handler(YuqingError)
    async def _yuqing(request: Request, exc: YuqingError) -> Response:
        status = exc.http_status
        extra: dict[str, Any] = {}
        retry = getattr(exc, "retry_after", None)
        if retry is not None:
            extra["retry_after"] = retry
        if _wants_html(request):
            return _html_error(request, status, exc.code, exc.message)
        return problem(status, exc.code, exc.message, **extra)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code, title = STATUS_CODES.get(exc.status_code, ("http_error", "error"))
        detail = exc.detail if isinstance(exc.detail, str) else title
        if _wants_html(request):
            return _html_error(request, exc.status_code, code, detail)
        return problem(exc.status_code, code, detail)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": e.get("type")}
            for e in exc.errors()
        ]
        if _wants_html(request):
            return _html_error(request, 422, "validation_error", "参数无效 / invalid input")
        return problem(422, "validation_error", "参数无效 / invalid input", errors=errors)
