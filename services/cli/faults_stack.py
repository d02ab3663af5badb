"""The system under fault: a real `rapport dev` on free 127.0.0.1 ports and its own data directory."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from contracts.auth import new_key
from services.cli.embedded import free_port
from services.cli.lifeline import die_with_parent

READY = re.compile("Ctrl-C stops everything")
# The experience's limit per key for the suite's stack: low enough that the flood can offer ten times it from this
# same machine and the experience can answer it all (the default 200/s would need 2,000 requests/s; on 2 cores,
# with the rest of the stack busy, the experience answers some 40-50 single-event requests a second), high enough
# for the steady load (batches of 100 at 400 events/s: 4 requests/s). Duplicates over HTTP send each batch 3-6
# times and meet 429s, which they retry as a client would.
RATE_LIMIT_PER_S, RATE_LIMIT_BURST = 4, 8


class StackError(Exception):
    """`rapport dev` did not start, or stopped on its own."""


@dataclass
class DevStack:
    data_dir: Path
    process: subprocess.Popen[bytes]
    log: Path
    api_key: str
    experience: str
    projection: str
    ports: tuple[int, int, int]  # experience, projection, kafka: kept across a restart of the whole stack

    @property
    def auth(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.api_key}"}

    def pids(self) -> dict[str, int]:
        """The current process of each part, as `rapport dev` keeps it (rewritten on every restart)."""
        return {k: int(v) for k, v in json.loads((self.data_dir / "dev-pids.json").read_text()).items()}

    def database_url(self) -> str:
        """The embedded PostgreSQL's URL for asyncpg (the services' URL names the SQLAlchemy driver)."""
        url = json.loads((self.data_dir / "endpoints.json").read_text())["database_url"]
        return str(url).replace("postgresql+asyncpg://", "postgresql://", 1)

    def kafka_bootstrap(self) -> str:
        return str(json.loads((self.data_dir / "endpoints.json").read_text())["kafka_bootstrap"])

    def kill(self, part: str) -> int:
        """kill -9 the current process of `part` (experience, projection, broker); returns its pid."""
        pid = self.pids()[part]
        os.kill(pid, signal.SIGKILL)
        return pid

    def start_worker(self, name: str) -> tuple[subprocess.Popen[bytes], Path]:
        """One more projection worker in dev's consumer group, as `--projection-workers` or a scale-up starts it;
        it dies with this process."""
        found = json.loads((self.data_dir / "endpoints.json").read_text())
        env = {**os.environ, "RAPPORT_PROJECTION_DATABASE_URL": found["database_url"],
               "RAPPORT_PROJECTION_KAFKA_BOOTSTRAP": found["kafka_bootstrap"]}  # fmt: skip
        log = self.data_dir / f"{name}.log"
        with open(log, "ab") as out:
            process = subprocess.Popen([sys.executable, "-m", "services.projection", "worker"], env=env, stdout=out,
                                       stderr=subprocess.STDOUT, preexec_fn=die_with_parent())  # fmt: skip
        return process, log

    def alive(self) -> bool:
        return self.process.poll() is None

    def rebuild(self) -> tuple[int, str]:
        """`rapport rebuild` as an operator runs it against this stack; its exit code and output."""
        env = {**os.environ, "RAPPORT_API_KEY": self.api_key}
        done = subprocess.run([sys.executable, "-m", "services.cli.main", "rebuild", "--data-dir", str(self.data_dir)],
                              capture_output=True, text=True, timeout=600, env=env)  # fmt: skip
        return done.returncode, done.stdout + done.stderr

    def stop(self) -> None:
        """Ctrl-C, as a user would: dev stops its children and PostgreSQL."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_stack(
    data_dir: Path,
    timeout: float = 180,
    *,
    ports: tuple[int, int, int] | None = None,
    api_key: str | None = None,
    log: Path | None = None,
) -> DevStack:
    """A `rapport dev` on `data_dir`; given `ports` and `api_key`, the same system again (after a kill -9)."""
    ports = ports or (free_port(), free_port(), free_port())
    api_key = api_key or new_key()
    data_dir.mkdir(parents=True, exist_ok=True)
    log = log or data_dir.parent / f"{data_dir.name}-dev.log"
    limits = {"RAPPORT_EXPERIENCE_RATE_LIMIT_PER_S": str(RATE_LIMIT_PER_S),
              "RAPPORT_EXPERIENCE_RATE_LIMIT_BURST": str(RATE_LIMIT_BURST)}  # fmt: skip
    args = [sys.executable, "-m", "services.cli.main", "dev", "--data-dir", str(data_dir),
            "--experience-port", str(ports[0]), "--projection-port", str(ports[1]), "--kafka-port", str(ports[2]),
            "--api-key", api_key]  # fmt: skip
    with open(log, "wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **limits})
    urls = f"http://127.0.0.1:{ports[0]}", f"http://127.0.0.1:{ports[1]}"
    stack = DevStack(data_dir, process, log, api_key, *urls, ports)
    deadline = time.monotonic() + timeout
    while not READY.search(log.read_text(errors="replace")):
        if process.poll() is not None or time.monotonic() > deadline:
            stack.stop()
            raise StackError(f"rapport dev did not start; its output:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)
    return stack
