"""The supervisor restarts a part that exits or keeps answering 503, after its backoff, and says which and why."""

from pathlib import Path

from services.cli.supervisor import Supervisor


class FakePart:
    log_path = Path("fake.log")

    def __init__(self, name: str, health_url: str | None = None) -> None:
        self.name, self.health_url = name, health_url
        self.running, self.code, self.pid, self.starts = True, None, 100, 0

    def start(self) -> None:
        self.running, self.code, self.pid, self.starts = True, None, self.pid + 1, self.starts + 1

    def alive(self) -> bool:
        return self.running

    def exit_code(self) -> int | None:
        return self.code

    def stop(self) -> None:
        self.running, self.code = False, 0

    def crash(self) -> None:
        self.running, self.code = False, -9


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_part_that_was_killed_is_restarted_after_its_backoff() -> None:
    part, clock, said, saved = FakePart("projection"), Clock(), [], []
    supervisor = Supervisor([part], said.append, lambda: saved.append(part.pid), clock=clock, probe=lambda _: 200)
    part.crash()
    supervisor.tick()
    assert "projection was killed by SIGKILL; restarting it in 1 s" in said[0]
    clock.now = 0.5
    supervisor.tick()
    assert part.starts == 0
    clock.now = 1.0
    supervisor.tick()
    assert part.starts == 1 and said[1] == "projection restarted (pid 101)" and saved == [101]
    part.crash()
    clock.now = 2.0
    supervisor.tick()
    assert "restarting it in 2 s" in said[2]


def test_three_503s_in_a_row_stop_and_restart_a_living_part() -> None:
    part, clock, said = FakePart("projection", "http://x/healthz"), Clock(), []
    supervisor = Supervisor([part], said.append, lambda: None, clock=clock, health_every=2.0, probe=lambda _: 503)
    for now in (2.0, 4.0, 6.0):
        clock.now = now
        supervisor.tick()
    assert not part.alive()
    assert "projection answered 503 on /healthz 3 times in a row; restarting it in 1 s" in said[0]
    clock.now = 7.0
    supervisor.tick()
    assert part.alive() and part.starts == 1


def test_a_part_that_fails_to_start_is_tried_again_later() -> None:
    part, clock, said = FakePart("broker"), Clock(), []

    def refuse() -> None:
        raise RuntimeError("port in use")

    part.start = refuse  # type: ignore[method-assign]
    supervisor = Supervisor([part], said.append, lambda: None, clock=clock, probe=lambda _: None)
    part.crash()
    supervisor.tick()
    clock.now = 1.0
    supervisor.tick()
    assert "broker did not start (port in use); restarting it in 2 s" in said[1]
