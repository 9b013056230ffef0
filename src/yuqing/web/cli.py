"""``yuqing serve``, ``yuqing users …``, ``yuqing tokens …``, ``yuqing search reindex``."""

from __future__ import annotations

import os
from typing import Any

import typer
from sqlalchemy import select

from yuqing.core.cli import app, console, get_context, print_json
from yuqing.web import auth

users_app = typer.Typer(help="用户 / console users", no_args_is_help=True)
tokens_app = typer.Typer(help="API 令牌 / API tokens for other systems", no_args_is_help=True)
search_app = typer.Typer(help="全文检索 / mention search index", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(search_app, name="search")


def _roles(value: str) -> list[str]:
    return [r.strip() for r in value.split(",") if r.strip()]


def _password(given: str | None) -> str:
    if given:
        return given
    env = os.environ.get("YUQING_NEW_PASSWORD")
    if env:
        return env
    return str(typer.prompt("密码 / password", hide_input=True, confirmation_prompt=True))


@app.command("serve")
def serve(
    host: str = typer.Option(None, help="Bind address (default: settings.web.host, 127.0.0.1)"),
    port: int = typer.Option(None, help="Port (default: settings.web.port, 8000)"),
) -> None:
    """启动控制台 / run the web console and REST API."""
    import uvicorn

    from yuqing.scale.roles import build_api

    ctx = get_context()
    bind_host = host or ctx.settings.web.host
    bind_port = port or ctx.settings.web.port
    console.print(f"控制台 / console: http://{bind_host}:{bind_port}/")
    uvicorn.run(build_api(ctx), host=bind_host, port=bind_port, log_level="info", proxy_headers=False)


@users_app.command("add")
def users_add(
    username: str,
    roles: str = typer.Option("viewer", "--roles", "-r", help=f"Comma-separated: {', '.join(auth.ROLES)}"),
    password: str = typer.Option(None, "--password", help="Prompted when omitted (or $YUQING_NEW_PASSWORD)"),
    name: str = typer.Option("", "--name", help="Display name"),
    person: str = typer.Option(
        None, "--person", help="Org person key this login acts as (default: username)"
    ),
) -> None:
    """新增用户 / add a user (the first admin: ``yuqing users add admin --roles admin``)."""
    ctx = get_context()
    user = auth.add_user(ctx, username, _password(password), _roles(roles), name, person)
    console.print(f"已创建用户 / user created: {user.username} ({', '.join(user.roles)})", highlight=False)


@users_app.command("list")
def users_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """列出用户 / list users."""
    from yuqing.web.models import User

    ctx = get_context()
    with ctx.db.session() as s:
        users = list(s.scalars(select(User).order_by(User.username)))
    rows: list[dict[str, Any]] = [
        {"username": u.username, "name": u.display_name, "roles": u.roles, "active": u.is_active}
        for u in users
    ]
    if as_json:
        print_json(rows)
        return
    for r in rows:
        state = "" if r["active"] else " (停用 / disabled)"
        console.print(f"{r['username']:<20} {','.join(r['roles']):<40} {r['name']}{state}", highlight=False)


@users_app.command("passwd")
def users_passwd(
    username: str, password: str = typer.Option(None, "--password", help="Prompted when omitted")
) -> None:
    """修改密码 / set a user's password (ends their sessions)."""
    ctx = get_context()
    auth.set_password(ctx, username, _password(password))
    console.print(f"密码已更新 / password changed: {username}", highlight=False)


@users_app.command("roles")
def users_roles(username: str, roles: str = typer.Argument(..., help="Comma-separated roles")) -> None:
    """设置角色 / set a user's roles."""
    ctx = get_context()
    got = auth.set_roles(ctx, username, _roles(roles))
    console.print(f"{username}: {', '.join(got) or '-'}", highlight=False)


@tokens_app.command("add")
def tokens_add(
    name: str,
    roles: str = typer.Option("viewer", "--roles", "-r", help="Comma-separated roles"),
) -> None:
    """新建令牌 / create an API token (shown once)."""
    ctx = get_context()
    tok, secret = auth.add_token(ctx, name, _roles(roles), created_by="cli")
    console.print(f"令牌 / token #{tok.id} {tok.name} ({', '.join(tok.roles)}):", highlight=False)
    typer.echo(secret)


@tokens_app.command("list")
def tokens_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """列出令牌 / list API tokens (never their secrets)."""
    from yuqing.web.models import ApiToken

    ctx = get_context()
    with ctx.db.session() as s:
        toks = list(s.scalars(select(ApiToken).order_by(ApiToken.id)))
    rows: list[dict[str, Any]] = [
        {
            "id": t.id,
            "name": t.name,
            "prefix": t.prefix,
            "roles": t.roles,
            "revoked": t.revoked_at is not None,
            "last_used_at": t.last_used_at,
        }
        for t in toks
    ]
    if as_json:
        print_json(rows)
        return
    for r in rows:
        state = "已吊销 / revoked" if r["revoked"] else "有效 / active"
        console.print(
            f"#{r['id']:<4} {r['name']:<24} yq_{r['prefix']}_… {','.join(r['roles'])} {state}",
            highlight=False,
        )


@tokens_app.command("revoke")
def tokens_revoke(token_id: int) -> None:
    """吊销令牌 / revoke an API token."""
    ctx = get_context()
    auth.revoke_token(ctx, token_id)
    console.print(f"已吊销 / revoked: #{token_id}")


@search_app.command("reindex")
def search_reindex() -> None:
    """重建全文索引 / rebuild the mention search index."""
    from yuqing.web.search import reindex_all

    ctx = get_context()
    n = reindex_all(ctx)
    console.print(f"已索引 / indexed {n} mentions")
