"""The roles of ``yuqing run --role scheduler|api|worker``: split the service, scale each part.

- ``scheduler``: polls the sources and publishes what it ingests (one per deployment is enough; a
  second one is harmless because ingest deduplicates, but wasteful);
- ``api``: the web app and REST API, ``/metrics`` included (stateless: run as many as needed
  behind a load balancer);
- ``worker``: the pipeline stages (:mod:`yuqing.scale.worker`; as many as the load needs);
- ``dispatcher``: delivers alert notifications and runs escalations
  (``yuqing.alerts.dispatcher.Dispatcher``; deliveries are leased, so two are safe — run two for
  availability). Across processes it is woken by polling (``alerts.dispatch_poll_s``), not by
  the in-process wake event;
- ``all`` (the default of plain ``yuqing run``): everything in one process, fine on the embedded
  bus or a small deployment.

The roles reach the other domains' entry points by name and fail with one clear line when a
domain does not provide one.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import Any

from yuqing.core.context import AppContext
from yuqing.errors import ConfigError

ROLES = ("scheduler", "api", "worker", "dispatcher", "all")


def _entry(module: str, *names: str) -> Callable[..., Any]:
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise ConfigError(f"缺少模块 / {module} is not available: {exc}") from exc
    for name in names:
        fn = getattr(mod, name, None)
        if callable(fn):
            return fn
    raise ConfigError(f"{module} 未提供入口 / provides none of {', '.join(names)}")


def run_scheduler(ctx: AppContext, stop: threading.Event, *, max_sleep: float | None = None) -> None:
    """Poll due sources until ``stop`` (``yuqing.sources.scheduler.Scheduler(ctx).run_forever``)."""
    from yuqing.core.pipeline import register_stages

    scheduler_cls = _entry("yuqing.sources.scheduler", "Scheduler")
    register_stages(ctx, ("sources",))  # warms ingest's near-duplicate index; subscribes nothing
    periodic = threading.Thread(target=run_periodic, args=(ctx, stop), name="periodic", daemon=True)
    periodic.start()
    try:
        scheduler_cls(ctx).run_forever(stop, max_sleep=max_sleep)
    finally:
        stop.set()
        periodic.join(timeout=30)


# Periodic jobs (module, function, every N seconds): each is one idempotent tick over the store,
# run by the scheduler role (one per deployment). A failing job is logged and retried next time.
PERIODIC_JOBS: tuple[tuple[str, str, float], ...] = (
    ("yuqing.sources.health", "report_unhealthy", 300.0),
    ("yuqing.incidents.service", "periodic", 60.0),
    ("yuqing.reports.schedule", "run_once", 300.0),
)


def run_periodic(ctx: AppContext, stop: threading.Event, *, tick: float = 5.0) -> None:
    """Run :data:`PERIODIC_JOBS` on their intervals until ``stop`` (monotonic time, not the clock)."""
    import logging
    import time

    log = logging.getLogger(__name__)
    jobs: list[tuple[str, Callable[..., Any], float]] = []
    for module, name, every in PERIODIC_JOBS:
        try:
            jobs.append((f"{module}.{name}", _entry(module, name), every))
        except ConfigError:
            log.info("periodic job %s.%s not available", module, name)
    due = dict.fromkeys((label for label, _, _ in jobs), 0.0)
    while not stop.is_set():
        now = time.monotonic()
        for label, fn, every in jobs:
            if now >= due[label]:
                due[label] = now + every
                try:
                    fn(ctx)
                except Exception:
                    log.exception("periodic job %s failed", label)
        stop.wait(tick)


def run_dispatcher(ctx: AppContext, stop: threading.Event) -> None:
    """Deliver notifications and escalate until ``stop`` (the alerts domain's dispatcher)."""
    dispatcher = _entry("yuqing.alerts.dispatcher", "Dispatcher")(ctx)
    try:
        dispatcher.run_forever(stop)
    finally:
        dispatcher.close()


def build_api(ctx: AppContext) -> Any:
    """The ASGI app (``yuqing.web.app.create_app(ctx)``) with ``/metrics`` mounted if it is not yet."""
    from yuqing.core import metrics
    from yuqing.core.pipeline import register_stages

    if not hasattr(ctx.bus, "run"):  # in-process bus: the API process runs the stages itself
        register_stages(ctx)
    else:
        register_stages(ctx, ("sources",))
    api = _entry("yuqing.web.app", "create_app")(ctx)
    metrics.register_bus(ctx.bus)
    routes = getattr(api, "routes", [])
    if hasattr(api, "mount") and not any(getattr(r, "path", "") == "/metrics" for r in routes):
        api.mount("/metrics", metrics.asgi_app())
    return api


def run_api(
    ctx: AppContext, stop: threading.Event, *, host: str | None = None, port: int | None = None
) -> None:
    """Serve the web app with uvicorn until ``stop`` is set (default bind: ``settings.web``)."""
    import uvicorn

    host = host or ctx.settings.web.host
    port = port or ctx.settings.web.port
    config = uvicorn.Config(build_api(ctx), host=host, port=port, log_config=None, proxy_headers=False)
    server = uvicorn.Server(config)

    def watch() -> None:
        stop.wait()
        server.should_exit = True

    threading.Thread(target=watch, name="api-stop", daemon=True).start()
    server.run()


def run_role(
    role: str,
    ctx: AppContext,
    stop: threading.Event,
    *,
    stages: list[str] | None = None,
    concurrency: int = 1,
    host: str | None = None,
    port: int | None = None,
) -> None:
    """Run one role until ``stop`` is set; ``all`` runs the three in threads of this process."""
    from yuqing.scale.worker import run_worker

    if role not in ROLES:
        raise ConfigError(f"未知角色 / unknown role {role!r}; choose one of {', '.join(ROLES)}")
    if role == "scheduler":
        run_scheduler(ctx, stop)
    elif role == "api":
        run_api(ctx, stop, host=host, port=port)
    elif role == "worker":
        run_worker(ctx, stop, stages=stages, concurrency=concurrency)
    elif role == "dispatcher":
        run_dispatcher(ctx, stop)
    else:
        parts: list[threading.Thread] = [
            threading.Thread(target=run_scheduler, args=(ctx, stop), name="scheduler", daemon=True),
            threading.Thread(
                target=run_api, args=(ctx, stop), kwargs={"host": host, "port": port}, name="api", daemon=True
            ),
            threading.Thread(target=run_dispatcher, args=(ctx, stop), name="dispatcher", daemon=True),
        ]
        if hasattr(ctx.bus, "run"):  # the in-process bus dispatches on publish: no worker needed
            parts.append(
                threading.Thread(
                    target=run_worker,
                    args=(ctx, stop),
                    kwargs={"stages": stages, "concurrency": concurrency},
                    name="worker",
                    daemon=True,
                )
            )
        for t in parts:
            t.start()
        try:
            while not stop.is_set() and all(t.is_alive() for t in parts):
                stop.wait(0.5)
        finally:
            stop.set()
            for t in parts:
                t.join(timeout=30)
