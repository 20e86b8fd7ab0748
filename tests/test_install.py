"""The installs `make run` and `make test` do are locked: every package they ask for is pinned
in constraints.txt, so a new release elsewhere cannot change what CI runs."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def name(requirement: str) -> str:
    """A requirement's package name, normalised as pip compares names."""
    return re.sub(r"[-_.]+", "-", re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0]).lower()


def test_every_package_make_installs_is_pinned():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    wanted = {name(r) for r in (*project["dependencies"], *extras["local"], *extras["dev"])}
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            package, _, version = line.partition("==")
            pins[name(package)] = version
    assert wanted - {"automuse"} <= set(pins), sorted(wanted - set(pins))
    assert all(re.fullmatch(r"[\w.+!]+", version) for version in pins.values()), pins


def test_the_makefile_installs_from_the_lock():
    makefile = (ROOT / "Makefile").read_text()
    installs = [line for line in makefile.splitlines() if "pip install" in line and "-e" in line]
    locked = [line for line in installs if "-c constraints.txt" in line]
    assert len(locked) == 3 and set(installs) - set(locked) == {
        "\t$(BIN)/python -m pip install --quiet --upgrade -e '.[local,dev,bench]'"
    }
