"""Command line: `python -m services.projection serve | worker | migrate`."""

import argparse
import asyncio

import uvicorn

from services.projection.adapters.migrate import migrate
from services.projection.bootstrap import create_app, run_worker
from services.projection.settings import ProjectionSettings


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m services.projection")
    parser.add_argument("mode", choices=["serve", "worker", "migrate"], help="API + one worker, worker, or migrate")
    mode = parser.parse_args().mode
    settings = ProjectionSettings()
    asyncio.run(migrate(settings.database_url))
    if mode == "serve":
        print(f"projection service listening on http://{settings.http_host}:{settings.http_port}", flush=True)
        uvicorn.run(create_app(settings), host=settings.http_host, port=settings.http_port, log_level="warning")
    elif mode == "worker":
        try:
            asyncio.run(run_worker(settings))
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
