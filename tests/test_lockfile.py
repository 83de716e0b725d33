"""The lock file the image installs from (requirements.lock) is current with pyproject.toml.

Every dependency of the service is pinned there at a version its range allows, the extras it
asks for included, and every pinned package's own requirements (read from the installed
package where it is the pinned version) are pinned too. Regenerate it with the command in its
first lines when a check fails.
"""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
REGENERATE = "uv pip compile pyproject.toml --universal --python-version 3.11 -o requirements.lock"
# the image's platform: the lock must hold for it
LINUX_311 = {
    "python_version": "3.11",
    "python_full_version": "3.11.14",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "platform_python_implementation": "CPython",
    "implementation_name": "cpython",
    "os_name": "posix",
}


def pins() -> dict[str, tuple[Version, Marker | None]]:
    """Pinned name -> (version, marker) from the lock."""
    found: dict[str, tuple[Version, Marker | None]] = {}
    for raw in LOCK.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        requirement = Requirement(line)
        specifiers = list(requirement.specifier)
        assert len(specifiers) == 1, f"{line}: not pinned"
        assert specifiers[0].operator == "==", f"{line}: not pinned with =="
        name = canonicalize_name(requirement.name)
        pinned = (Version(specifiers[0].version), requirement.marker)
        # a package pinned per Python version (numpy ; python_full_version < '3.12', and
        # another pin for later versions): keep the pin that applies to the image's Python
        if name in found and (
            requirement.marker is not None and not requirement.marker.evaluate(LINUX_311)
        ):
            continue
        found[name] = pinned
    return found


def applies(requirement: Requirement, extras: set[str]) -> bool:
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate(LINUX_311 | {"extra": extra}) for extra in extras | {""})


def check(requirement: Requirement, locked: dict[str, tuple[Version, Marker | None]]) -> str:
    """What is wrong with the lock for this requirement ('' if nothing)."""
    name = canonicalize_name(requirement.name)
    if name not in locked:
        return f"{requirement} is not in the lock"
    version, marker = locked[name]
    if not requirement.specifier.contains(version, prereleases=True):
        return f"{requirement}: the lock pins {version}"
    if marker is not None and not marker.evaluate(LINUX_311):
        return f"{requirement}: the lock leaves it out on Linux ({marker})"
    return ""


def installed_requirements(name: str, version: Version, extras: set[str]) -> list[Requirement]:
    """The requirements of the installed distribution, if it is this version (else none)."""
    try:
        if Version(metadata.version(name)) != version:
            return []
        declared = metadata.requires(name) or []
    except metadata.PackageNotFoundError:
        return []
    return [r for r in map(Requirement, declared) if applies(r, extras)]


def test_lock_pins_the_declared_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    locked = pins()
    problems = []
    for declared in map(Requirement, project["dependencies"]):
        problems.append(check(declared, locked))
        name = canonicalize_name(declared.name)
        if name in locked and declared.extras:
            needed = installed_requirements(name, locked[name][0], set(declared.extras))
            problems += [check(r, locked) for r in needed if r.marker is not None]
    problems = [p for p in problems if p]
    assert problems == [], f"requirements.lock is stale; run: {REGENERATE}"


def test_lock_is_closed() -> None:
    locked = pins()
    checked = 0
    problems = []
    for name, (version, marker) in locked.items():
        if marker is not None and not marker.evaluate(LINUX_311):
            continue
        requirements = installed_requirements(name, version, set())
        checked += bool(requirements)
        problems += [check(r, locked) for r in requirements]
    problems = [p for p in problems if p]
    assert problems == [], f"requirements.lock misses requirements; run: {REGENERATE}"
    assert checked >= 10  # most pinned packages are installed here at the pinned version


def test_lock_records_how_it_was_made_and_the_image_installs_from_it() -> None:
    head = LOCK.read_text(encoding="utf-8").splitlines()[:3]
    assert any(REGENERATE in line for line in head)
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "pip wheel --wheel-dir /wheels --requirement requirements.lock" in dockerfile
    assert "pip install --no-index --find-links=/wheels --requirement /tmp/requirements.lock" in (
        dockerfile
    )
