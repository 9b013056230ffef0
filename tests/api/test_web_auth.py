"""Auth, roles on every route, CSRF, throttling, API tokens, audit log, security headers."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import iter_route_contexts
from sqlalchemy import select
from web_support import PASSWORD, fast_hashing, login_client, make_client

from yuqing.web import auth
from yuqing.web.models import ApiToken, AuditLog, User

PUBLIC = {
    ("GET", "/api/v1/openapi.json"),
    ("POST", "/api/v1/auth/login"),
    ("GET", "/healthz"),
    ("GET", "/lang/{code}"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", "/alerts/ack"),
    ("POST", "/alerts/ack"),
    ("POST", "/api/v1/ingest"),  # the ingest webhook has its own bearer-token auth
}
# Routes any authenticated principal may use, whatever its roles.
ANY_ROLE = {("POST", "/api/v1/auth/logout"), ("GET", "/api/v1/auth/me"), ("POST", "/logout")}


def _routes(app) -> list[tuple[str, str]]:
    out = []
    for rc in iter_route_contexts(app.routes):
        for method in sorted(rc.methods or ()):
            if method != "HEAD":
                out.append((method, rc.path))
    return out


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_route_rejects_anonymous_and_roleless_callers(ctx) -> None:
    anon = make_client(ctx)
    routes = _routes(anon.app)
    assert len(routes) > 20
    roleless = login_client(ctx, "nobody", [])
    checked = 0
    for method, path in routes:
        if (method, path) in PUBLIC:
            continue
        url = _concrete(path)
        r = anon.request(method, url, headers={"Accept": "application/json"})
        assert r.status_code == 401, (method, path, r.status_code)
        if url.startswith("/api/"):
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.json()["code"] == "authentication_required"
        if (method, path) in ANY_ROLE:
            continue
        r = roleless.request(method, url, headers={"Accept": "application/json"})
        assert r.status_code == 403, (method, path, r.status_code)
        checked += 1
    assert checked > 15


def test_admin_only_routes_refuse_a_viewer(ctx) -> None:
    viewer = login_client(ctx, "viewer1", ["viewer"])
    for method, url in [("GET", "/api/v1/users"), ("GET", "/api/v1/audit"), ("GET", "/api/v1/tokens")]:
        r = viewer.request(method, url)
        assert r.status_code == 403 and r.json()["code"] == "permission_denied"
    r = viewer.patch("/api/v1/sources/1", json={"enabled": False})
    assert r.status_code == 403
    assert viewer.get("/api/v1/mentions").status_code == 200


def test_login_wrong_password_is_401_and_throttled_to_429(ctx) -> None:
    fast_hashing(ctx)
    auth.add_user(ctx, "alice", PASSWORD, ["monitor"])
    client = make_client(ctx)
    for _ in range(ctx.settings.web.login_max_failures):
        r = client.post("/api/v1/auth/login", json={"username": "alice", "password": "wrong-password"})
        assert r.status_code == 401 and r.json()["code"] == "invalid_credentials"
    r = client.post("/api/v1/auth/login", json={"username": "alice", "password": PASSWORD})
    assert r.status_code == 429 and r.json()["code"] == "too_many_requests"
    assert int(r.headers["Retry-After"]) > 0
    ctx.clock.advance(ctx.settings.web.login_window_s + 1)
    r = client.post("/api/v1/auth/login", json={"username": "alice", "password": PASSWORD})
    assert r.status_code == 200
    with ctx.db.session() as s:
        actions = list(s.scalars(select(AuditLog.action).where(AuditLog.actor == "user:alice")))
    assert actions.count("login.failed") >= 5 and "login" in actions


def test_session_cookie_flags_and_csrf_required_for_unsafe_calls(ctx) -> None:
    fast_hashing(ctx)
    auth.add_user(ctx, "bob", PASSWORD, ["admin"])
    client = make_client(ctx)
    r = client.post("/api/v1/auth/login", json={"username": "bob", "password": PASSWORD})
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    csrf = r.json()["csrf_token"]
    body = {"username": "carol", "password": PASSWORD, "roles": ["viewer"]}
    r = client.post("/api/v1/users", json=body)
    assert r.status_code == 403 and r.json()["code"] == "csrf_failed"
    r = client.post("/api/v1/users", json=body, headers={"X-CSRF-Token": "0" * 64})
    assert r.status_code == 403
    r = client.post("/api/v1/users", json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201 and r.json()["roles"] == ["viewer"]
    # a tampered cookie is no session
    client.cookies.clear()
    client.cookies.set(auth.SESSION_COOKIE, "forged.value.sig")
    assert client.get("/api/v1/auth/me").status_code == 401


def test_logout_and_password_change_end_sessions(ctx) -> None:
    client = login_client(ctx, "dave", ["viewer"])
    assert client.get("/api/v1/auth/me").json()["name"] == "dave"
    auth.set_password(ctx, "dave", "another-pass-1")
    assert client.get("/api/v1/auth/me").status_code == 401
    client2 = make_client(ctx)
    r = client2.post("/api/v1/auth/login", json={"username": "dave", "password": "another-pass-1"})
    client2.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    assert client2.post("/api/v1/auth/logout").status_code == 204
    client2.cookies.set(auth.SESSION_COOKIE, r.cookies[auth.SESSION_COOKIE])
    assert client2.get("/api/v1/auth/me").status_code == 401


def test_api_tokens_are_hashed_scoped_and_revocable(ctx) -> None:
    admin = login_client(ctx, "root", ["admin"])
    r = admin.post("/api/v1/tokens", json={"name": "bi-system", "roles": ["viewer"]})
    assert r.status_code == 201
    secret, tid = r.json()["token"], r.json()["id"]
    with ctx.db.session() as s:
        stored = s.get(ApiToken, tid)
        assert stored is not None and secret not in (stored.token_hash, stored.prefix)
    system = make_client(ctx)
    hdr = {"Authorization": f"Bearer {secret}"}
    assert system.get("/api/v1/mentions", headers=hdr).status_code == 200
    assert system.get("/api/v1/users", headers=hdr).status_code == 403  # viewer role only
    assert system.get("/api/v1/mentions", headers={"Authorization": "Bearer yq_bad_token"}).status_code == 401
    assert admin.delete(f"/api/v1/tokens/{tid}").status_code == 204
    assert system.get("/api/v1/mentions", headers=hdr).status_code == 401
    assert admin.delete("/api/v1/tokens/999").status_code == 404


def test_unsafe_requests_are_audited(ctx) -> None:
    admin = login_client(ctx, "root", ["admin"])
    admin.post("/api/v1/users", json={"username": "eve", "password": PASSWORD, "roles": ["bogus"]})
    r = admin.get("/api/v1/audit")
    assert r.status_code == 200
    entries = r.json()["items"]
    hit = [e for e in entries if e["path"] == "/api/v1/users" and e["method"] == "POST"]
    assert hit and hit[0]["actor"] == "user:root" and hit[0]["status"] == 422


def test_user_admin_over_api(ctx) -> None:
    admin = login_client(ctx, "root", ["admin"])
    r = admin.post("/api/v1/users", json={"username": "frank", "password": PASSWORD, "roles": ["monitor"]})
    uid = r.json()["id"]
    assert admin.post("/api/v1/users", json={"username": "frank", "password": PASSWORD}).status_code == 409
    r = admin.patch(f"/api/v1/users/{uid}", json={"roles": ["monitor", "responder"], "is_active": False})
    assert r.json()["roles"] == ["monitor", "responder"] and r.json()["is_active"] is False
    assert admin.get("/api/v1/users/9999").status_code == 404
    assert admin.patch(f"/api/v1/users/{uid}", json={"roles": ["king"]}).status_code == 422
    with ctx.db.session() as s:
        assert s.scalar(select(User.password_hash).where(User.username == "frank")).startswith("$argon2")
    client = make_client(ctx)
    r = client.post("/api/v1/auth/login", json={"username": "frank", "password": PASSWORD})
    assert r.status_code == 401  # disabled


def test_security_headers(ctx) -> None:
    client = make_client(ctx)
    for path in ("/login", "/api/v1/openapi.json", "/healthz", "/static/js/app.js"):
        r = client.get(path)
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"


def test_problem_json_for_404_and_422(ctx) -> None:
    viewer = login_client(ctx, "v", ["viewer"])
    r = viewer.get("/api/v1/mentions/424242")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert r.headers["content-type"].startswith("application/problem+json")
    r = viewer.get("/api/v1/mentions", params={"limit": 0})
    assert r.status_code == 422 and r.json()["code"] == "validation_error" and r.json()["errors"]
    r = viewer.get("/api/v1/mentions/abc")
    assert r.status_code == 422
    r = viewer.get("/api/v1/no-such-thing")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = viewer.get("/api/v1/mentions", params={"platform": "wei\x00bo"})
    assert r.status_code == 422 and r.json()["code"] == "invalid_characters"
    r = viewer.post("/api/v1/auth/login", json={"username": "a\u0000", "password": "x"})
    assert r.status_code == 422 and r.json()["code"] == "invalid_characters"
    r = viewer.post("/api/v1/auth/login", content=b"{" + b" " * (1024 * 1024 + 10) + b"}")
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"
    assert viewer.get("/api/v1/mentions/9223372036854775808").status_code == 422
    assert viewer.get("/api/v1/sources/2147483648").status_code == 422


def test_metrics_endpoint_serves_prometheus_text_to_admins_only(ctx) -> None:
    fast_hashing(ctx)
    admin = login_client(ctx, "ops-admin", ["admin"])
    r = admin.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    assert "# HELP" in r.text and "yuqing_" in r.text
    viewer = login_client(ctx, "watcher", ["viewer"])
    assert viewer.get("/metrics").status_code == 403


@pytest.mark.parametrize(
    ("value", "lang", "expected"),
    [
        ("responding", "zh", "处置中"),
        ("responding", "en", "Responding"),
        ("published", "zh", "已发布"),
        ("in_review", "en", "In review"),
        ("customer_complaint", "zh", "客户投诉/纠纷"),
        ("policy_reaction", "en", "Policy reaction"),
        ("something_new", "zh", "something_new"),  # unknown codes are shown as they are
        (None, "zh", ""),
    ],
)
def test_status_codes_are_shown_in_the_readers_language(value, lang, expected) -> None:
    from yuqing.web.i18n import code_label

    assert code_label(value, lang) == expected
