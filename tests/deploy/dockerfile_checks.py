"""Offline checks of deploy/Dockerfile: multi-stage, pinned bases, a lean non-root final stage with a HEALTHCHECK,
and both services defaulting to production."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable

from tests.deploy.checks import image_pin_problem


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    logical, current = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#") or not stripped:
            continue
        current += " " + stripped[:-1] if stripped.endswith("\\") else " " + stripped
        if not stripped.endswith("\\"):
            logical.append(current.strip())
            current = ""
    pairs = []
    for line in logical:
        instruction, _, arguments = line.partition(" ")
        pairs.append((instruction.upper(), arguments.strip()))
    return pairs


BUILD_TOOLS = re.compile(r"\b(gcc|g\+\+|make|build-essential|clang|cargo|rustc|libpq-dev|python3-dev|git)\b")
# The settings default to development, where no API keys means no authentication: the image must not.
PRODUCTION_DEFAULTS = ("RAPPORT_EXPERIENCE_ENVIRONMENT", "RAPPORT_PROJECTION_ENVIRONMENT")


def dockerfile_env(instructions: Iterable[tuple[str, str]]) -> dict[str, str]:
    """What the ENV instructions among `instructions` set, the later ones winning (`KEY=value ...` or `KEY value`)."""
    env: dict[str, str] = {}
    for instruction, arguments in instructions:
        words = shlex.split(arguments) if instruction == "ENV" else []
        if words and "=" not in words[0]:
            env[words[0]] = " ".join(words[1:])
            continue
        for word in words:
            key, _, value = word.partition("=")
            env[key] = value
    return env


def dockerfile_problems(text: str) -> list[str]:
    """Multi-stage, pinned base, no build tools and a non-root user in the final stage, a HEALTHCHECK, and both
    services defaulting to production."""
    problems = []
    instructions = dockerfile_instructions(text)
    args = {}
    for instruction, arguments in instructions:
        if instruction == "ARG" and "=" in arguments:
            key, _, value = arguments.partition("=")
            args[key.strip()] = value.strip().strip('"')
        if instruction == "FROM":
            break
    stages = [index for index, (instruction, _) in enumerate(instructions) if instruction == "FROM"]
    if len(stages) < 2:
        problems.append("not a multi-stage build")
    stage_names = set()
    for index in stages:
        words = instructions[index][1].split()
        image = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m[1], m[0]), words[0])
        if image not in stage_names and (pin := image_pin_problem(image)) is not None:
            problems.append(f"FROM {pin}")
        if len(words) >= 3 and words[1].upper() == "AS":
            stage_names.add(words[2])
    final = instructions[stages[-1] :] if stages else instructions
    users = [arguments for instruction, arguments in final if instruction == "USER"]
    if not users or users[-1].split(":")[0] in {"root", "0"}:
        problems.append("the final stage does not switch to a non-root USER")
    for instruction, arguments in final:
        if instruction == "RUN" and "install" in arguments and BUILD_TOOLS.search(arguments):
            problems.append(f"build tools installed in the final stage: {arguments[:80]}")
    if not any(instruction == "HEALTHCHECK" and "NONE" not in arguments.upper() for instruction, arguments in final):
        problems.append("no HEALTHCHECK")
    env = dockerfile_env(final)
    for key in PRODUCTION_DEFAULTS:
        if env.get(key) != "production":
            problems.append(f"the final stage does not set ENV {key}=production (the settings default to "
                            "development: without keys, no authentication)")  # fmt: skip
    return problems
