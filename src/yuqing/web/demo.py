"""``yuqing demo`` step of the web console: a demo login, the search index, where to point a browser."""

from __future__ import annotations

from rich.console import Console
from sqlalchemy import select

from yuqing.core.context import AppContext
from yuqing.web import auth
from yuqing.web.models import User
from yuqing.web.search import reindex_all


def run(ctx: AppContext, console: Console) -> None:
    cfg = ctx.settings.web
    with ctx.db.session() as s:
        exists = s.scalar(select(User.id).where(User.username == cfg.demo_user)) is not None
    if exists:
        auth.set_password(ctx, cfg.demo_user, cfg.demo_password)
        auth.set_roles(ctx, cfg.demo_user, list(auth.ROLES))
    else:
        auth.add_user(ctx, cfg.demo_user, cfg.demo_password, list(auth.ROLES), "演示用户 / demo user")
    indexed = reindex_all(ctx)
    url = f"http://{cfg.host}:{cfg.port}/"
    console.rule("[bold]控制台 / web console")
    console.print(f"全文索引 / search index: {indexed} 条信息 / mentions", highlight=False)
    console.print("启动 / start:  [bold]yuqing serve[/]", highlight=False)
    console.print(f"地址 / URL:    [bold]{url}[/]", highlight=False)
    console.print(
        f"演示账号 / demo login: [bold]{cfg.demo_user}[/] / [bold]{cfg.demo_password}[/] "
        f"（全部角色 / all roles: {', '.join(auth.ROLES)}）",
        highlight=False,
    )
    console.print(
        "审批与发布声明按应急组织人员的权限校验；"
        "可用 `yuqing users add <人员键> --roles approver` 创建对应账号 / "
        "statement approval follows the org's people: add logins named after org person keys",
        highlight=False,
    )
