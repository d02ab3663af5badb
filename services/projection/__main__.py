"""Command line: `python -m services.projection serve | worker | migrate | rebuild`."""

import argparse
import asyncio

import uvicorn

from services.common.logs import configure_logging
from services.projection.adapters.metrics import ProjectionMetrics
from services.projection.adapters.migrate import migrate
from services.projection.bootstrap import create_app, run_worker
from services.projection.rebuild_root import rebuild_views
from services.projection.runtime import run, tune_gc
from services.projection.settings import ProjectionSettings


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m services.projection")
    parser.add_argument(
        "mode", choices=["serve", "worker", "migrate", "rebuild"],
        help="API + one worker, worker, migrate, or rebuild every view from the event log (a one-shot Job)",
    )  # fmt: skip
    mode = parser.parse_args().mode
    settings = ProjectionSettings()
    configure_logging("projection", settings.log_level)
    asyncio.run(migrate(settings.database_url))
    if mode == "serve":
        print(f"projection service listening on http://{settings.http_host}:{settings.http_port}", flush=True)
        tune_gc()
        # loop and http "auto": uvloop and httptools, which the project installs, where the platform has them
        uvicorn.run(create_app(settings), host=settings.http_host, port=settings.http_port, log_level="warning")
    elif mode == "worker":
        metrics = ProjectionMetrics()
        if settings.metrics_port:
            # No HTTP API in a worker: Prometheus scrapes its own small server instead.
            metrics.serve(settings.http_host, settings.metrics_port)
        try:
            run(run_worker(settings, metrics=metrics))
        except KeyboardInterrupt:
            pass
    elif mode == "rebuild":
        report = asyncio.run(rebuild_views(settings))  # logs its figures as one JSON line
        print(f"rebuilt {report.customers} views from {report.events} events at {report.events_per_s:,.0f}/s")


if __name__ == "__main__":
    main()
