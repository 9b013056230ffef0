"""Resource inventory (物资清单) page."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from yuqing.core.context import AppContext
from yuqing.incidents.models import Resource
from yuqing.web import domain_view
from yuqing.web.auth import Principal
from yuqing.web.deps import get_ctx, require
from yuqing.web.pages.render import render

router = APIRouter(include_in_schema=False)


@router.get("/resources", response_class=HTMLResponse)
def resources_page(
    request: Request, ctx: AppContext = Depends(get_ctx), p: Principal = Depends(require("read"))
) -> Response:
    with ctx.db.session() as s:
        rows = list(s.scalars(select(Resource).order_by(Resource.kind, Resource.name).limit(500)))
    return render(request, "resources.html", p, resources=rows, extra_nav=domain_view.nav())
