"""`python -m services.experience [serve|migrate]`: run the write side, or bring its schema up to date."""

import argparse
import asyncio
import sys

import uvicorn
from pydantic import ValidationError

from services.common.logs import configure_logging
from services.experience.adapters.migrate import migrate
from services.experience.bootstrap import create_app
from services.experience.runtime import tune_gc
from services.experience.settings import ExperienceSettings


class _AnnouncingServer(uvicorn.Server):
    """Prints the address once the socket is bound, so a supervisor can tell the service is up."""

    async def startup(self, sockets: list | None = None) -> None:  # type: ignore[type-arg]
        await super().startup(sockets)
        if self.should_exit or not self.servers:
            return
        host, port = self.servers[0].sockets[0].getsockname()[:2]
        print(f"experience service listening on http://{host}:{port}", flush=True)


def serve(settings: ExperienceSettings) -> None:
    configure_logging("experience", settings.log_level)
    # loop and http "auto": uvloop and httptools, which the project installs, where the platform has them
    config = uvicorn.Config(create_app(settings), host=settings.http_host, port=settings.http_port, log_level="warning")
    tune_gc()
    _AnnouncingServer(config).run()  # uvicorn turns SIGTERM/SIGINT into a graceful shutdown


def load_settings() -> ExperienceSettings:
    """The settings from the environment, or an exit naming each problem (never echoing a value: secrets)."""
    try:
        return ExperienceSettings()  # database_url comes from the environment
    except ValidationError as error:
        problems = [
            f"  {'.'.join(str(part) for part in e['loc']) or 'settings'}: {e['msg']}"
            for e in error.errors(include_input=False, include_url=False)
        ]
        sys.exit("experience service: refusing to start, the settings are not usable:\n" + "\n".join(problems))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m services.experience")
    parser.add_argument("command", nargs="?", choices=["serve", "migrate"], default="serve")
    args = parser.parse_args(argv)
    settings = load_settings()
    if args.command == "migrate":
        asyncio.run(migrate(settings.database_url))
        print("experience migrations applied", flush=True)
    else:
        serve(settings)


if __name__ == "__main__":
    main(sys.argv[1:])
