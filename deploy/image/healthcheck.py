"""Container health check for the one Rapport image, whichever service it runs (stdlib only, exit 0 = healthy).

The image's HEALTHCHECK cannot know which command the container was started with, so this looks at the running
processes: `services.experience serve` is probed on RAPPORT_EXPERIENCE_HTTP_PORT (8080), `services.projection serve`
on RAPPORT_PROJECTION_HTTP_PORT (8081), both at /healthz. A consumer-only `services.projection worker` has no HTTP
port: it is healthy while its process runs. RAPPORT_HEALTHCHECK_URL, when set, is probed instead of all that.
"""

import os
import sys
import urllib.request
from collections.abc import Iterable, Mapping

DEFAULT_PORTS = {"services.experience": 8080, "services.projection": 8081}
PORT_VARIABLES = {
    "services.experience": "RAPPORT_EXPERIENCE_HTTP_PORT",
    "services.projection": "RAPPORT_PROJECTION_HTTP_PORT",
}


def running_commands(proc: str = "/proc") -> list[list[str]]:
    """argv of every process visible in this container."""
    commands = []
    for entry in os.listdir(proc):
        if not entry.isdigit():
            continue
        try:
            with open(os.path.join(proc, entry, "cmdline"), "rb") as handle:
                raw = handle.read()
        except OSError:
            continue
        if raw:
            commands.append([part.decode(errors="replace") for part in raw.rstrip(b"\0").split(b"\0")])
    return commands


def target(commands: Iterable[list[str]], env: Mapping[str, str]) -> str | None:
    """The URL to probe, "" when a service without HTTP is running, None when no Rapport service runs."""
    if env.get("RAPPORT_HEALTHCHECK_URL"):
        return env["RAPPORT_HEALTHCHECK_URL"]
    found: str | None = None
    for argv in commands:
        for module, default_port in DEFAULT_PORTS.items():
            if module not in argv:
                continue
            mode = argv[argv.index(module) + 1] if argv.index(module) + 1 < len(argv) else "serve"
            if mode == "serve":
                port = env.get(PORT_VARIABLES[module]) or str(default_port)
                return f"http://127.0.0.1:{port}/healthz"
            found = ""  # a worker (or a one-shot migrate): no HTTP, alive while it runs
    return found


def main() -> int:
    url = target(running_commands(), os.environ)
    if url is None:
        print("no Rapport service is running in this container", file=sys.stderr)
        return 1
    if url == "":
        return 0
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # a local URL
            return 0 if response.status == 200 else 1
    except OSError as error:
        print(f"{url}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
