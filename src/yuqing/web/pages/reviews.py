"""Reviews (总结评估) page."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from yuqing.core.context import AppContext
from yuqing.incidents.models import ImprovementAction, Incident, Review
from yuqing.web import domain_view
from yuqing.web.auth import Principal
from yuqing.web.deps import get_ctx, require
from yuqing.web.pages.render import render

router = APIRouter(include_in_schema=False)


@router.get("/reviews", response_class=HTMLResponse)
def reviews_page(
    request: Request, ctx: AppContext = Depends(get_ctx), p: Principal = Depends(require("read"))
) -> Response:
    with ctx.db.session() as s:
        rows = s.execute(
            select(Review, Incident.title)
            .join(Incident, Incident.id == Review.incident_id)
            .order_by(Review.id.desc())
            .limit(100)
        ).all()
        ids = [r.id for r, _ in rows]
        actions: dict[int, list[ImprovementAction]] = {}
        if ids:
            for a in s.scalars(select(ImprovementAction).where(ImprovementAction.review_id.in_(ids))):
                actions.setdefault(a.review_id, []).append(a)
    return render(request, "reviews.html", p, reviews=rows, actions=actions, extra_nav=domain_view.nav())
