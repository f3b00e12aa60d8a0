#!/usr/bin/env python3
"""make check-wheels: every exact pin in pyproject.toml has a wheel on the package index for every
supported Python on manylinux x86_64, checked without installing or downloading anything.

The supported Pythons are the 3.x minor versions that pyproject.toml's requires-python allows.
The packages are the project's dependencies and its dev extra, each pinned with ``==``. For each,
the index's page (PEP 503 HTML or PEP 691 JSON, as pip reads it) lists the files of every release;
a pin passes for a Python when one wheel of the pinned version carries a tag that CPython of that
version accepts on manylinux_2_28 x86_64 (the glibc floor of torch's own wheels) and, where the
index states it, that file's Requires-Python allows that version. Pure-Python ``py3-none-any``
wheels count. The tags and version rules are those of ``packaging``, the library pip itself uses
(pip's vendored copy where ``packaging`` is not installed), so no full install is needed: any
Python >= 3.11 with pip will do.

This reads the index pages only (about 14 MB uncompressed, once for all Pythons), where
``pip download --only-binary`` would fetch every wheel, torch's 530 MB one once per Python. The index is PyPI unless --index-url names
another (a mirror that serves the simple API); pip's own configuration is not read, so a local
find-links folder or extra index cannot stand in for a wheel that the index lacks.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
import tomllib
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

try:
    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet
    from packaging.tags import Tag, compatible_tags, cpython_tags
    from packaging.utils import canonicalize_name, parse_wheel_filename
    from packaging.version import Version
except ImportError:  # a bare interpreter: pip ships the same library
    from pip._vendor.packaging.requirements import Requirement
    from pip._vendor.packaging.specifiers import SpecifierSet
    from pip._vendor.packaging.tags import Tag, compatible_tags, cpython_tags
    from pip._vendor.packaging.utils import canonicalize_name, parse_wheel_filename
    from pip._vendor.packaging.version import Version

PYPI = "https://pypi.org/simple/"
# torch 2.11's Linux wheels need glibc 2.28 (manylinux_2_28): a wheel for an older glibc also
# runs there, a newer one would not run where torch runs.
GLIBC = (2, 28)
ARCH = "x86_64"
# PEP 600's legacy aliases, with the glibc version each stands for.
LEGACY_MANYLINUX = {"manylinux2014": (2, 17), "manylinux2010": (2, 12), "manylinux1": (2, 5)}
JSON_SIMPLE = "application/vnd.pypi.simple.v1+json"


def manylinux_platforms(glibc: tuple[int, int] = GLIBC, arch: str = ARCH) -> list[str]:
    """Every manylinux platform tag whose wheels run on this glibc, newest first (PEP 600)."""
    major, minor = glibc
    platforms = [f"manylinux_{major}_{m}_{arch}" for m in range(minor, 4, -1)]
    legacy = [f"{name}_{arch}" for name, floor in LEGACY_MANYLINUX.items() if floor <= glibc]
    return platforms + legacy


def supported_tags(python: str, platforms: list[str]) -> dict[Tag, int]:
    """The wheel tags that CPython `python` ("3.12") accepts on these platforms, each with its
    rank in pip's order of preference (0 is the most specific)."""
    version = tuple(int(part) for part in python.split("."))
    abi = "cp" + "".join(map(str, version))
    ordered = [*cpython_tags(version, [abi], platforms), *compatible_tags(version, abi, platforms)]
    ranks: dict[Tag, int] = {}
    for rank, tag in enumerate(ordered):
        ranks.setdefault(tag, rank)
    return ranks


def supported_pythons(requires_python: str, highest_minor: int = 40) -> list[str]:
    """The 3.x versions that requires-python allows; it must have an upper bound."""
    spec = SpecifierSet(requires_python)
    allowed = [f"3.{minor}" for minor in range(highest_minor + 1) if spec.contains(f"3.{minor}")]
    if not allowed or spec.contains(f"3.{highest_minor}"):
        raise SystemExit(
            f"pyproject.toml: requires-python {requires_python!r} must allow a bounded range of "
            "Python 3 versions (for example '>=3.11,<3.14') to be checked"
        )
    return allowed


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    requirement: Requirement


def read_pins(pyproject: Path, extras: tuple[str, ...] = ("dev",)) -> tuple[list[Pin], str]:
    """The exact pins of the dependencies and the given extras, and requires-python."""
    project = tomllib.loads(pyproject.read_text())["project"]
    lines = list(project.get("dependencies", []))
    for extra in extras:
        lines += project.get("optional-dependencies", {}).get(extra, [])
    pins = []
    for line in lines:
        requirement = Requirement(line)
        specs = list(requirement.specifier)
        if len(specs) != 1 or specs[0].operator != "==" or "*" in specs[0].version:
            raise SystemExit(
                f"{pyproject}: dependency {line!r} is not an exact pin (expected name==version)"
            )
        pins.append(Pin(canonicalize_name(requirement.name), specs[0].version, requirement))
    return pins, project["requires-python"]


@dataclass(frozen=True)
class IndexFile:
    filename: str
    requires_python: str | None
    yanked: bool


class _LinkParser(HTMLParser):
    """The anchors of a PEP 503 page: file name, data-requires-python, data-yanked."""

    def __init__(self) -> None:
        super().__init__()
        self.files: list[IndexFile] = []
        self._anchor: dict[str, str | None] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._anchor = dict(attrs)

    def handle_endtag(self, tag):
        if tag == "a" and self._anchor is not None:
            href = self._anchor.get("href") or ""
            filename = urlsplit(href).path.rsplit("/", 1)[-1]
            self.files.append(
                IndexFile(
                    filename,
                    self._anchor.get("data-requires-python") or None,
                    "data-yanked" in self._anchor,
                )
            )
            self._anchor = None


class IndexUnreadable(Exception):
    """A project page of the index could not be read."""


def fetch_files(index_url: str, name: str, timeout: float = 60) -> list[IndexFile]:
    """The files the index lists for a project (PEP 691 JSON where offered, else PEP 503 HTML)."""
    url = urljoin(index_url.rstrip("/") + "/", f"{name}/")
    if url.startswith("file:"):  # a local index folder, as pip reads one: its index.html
        url += "index.html"
    headers = {"Accept": f"{JSON_SIMPLE}, text/html;q=0.1", "Accept-Encoding": "gzip"}
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            content_type = response.headers.get_content_type()
            body = response.read()
            if response.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
    except OSError as error:  # urllib's errors included
        raise IndexUnreadable(f"{url}: {error}") from error
    return parse_listing(body.decode("utf-8"), content_type)


def parse_listing(body: str, content_type: str) -> list[IndexFile]:
    """The files of one project page of a simple index, in either of its two formats."""
    if content_type == JSON_SIMPLE:
        return [
            IndexFile(f["filename"], f.get("requires-python"), bool(f.get("yanked")))
            for f in json.loads(body)["files"]
        ]
    parser = _LinkParser()
    parser.feed(body)
    return parser.files


def matching_wheel(
    files: list[IndexFile], pin: Pin, python: str, tags: dict[Tag, int]
) -> IndexFile | None:
    """The pinned version's wheel that pip would prefer on this Python, or None if none fits."""
    wanted = Version(pin.version)
    best: tuple[int, IndexFile] | None = None
    for file in files:
        if not file.filename.endswith(".whl"):
            continue
        try:
            name, version, _build, file_tags = parse_wheel_filename(file.filename)
        except Exception:  # a malformed name: pip skips it as well
            continue
        ranks = [tags[tag] for tag in file_tags if tag in tags]
        if name != pin.name or version != wanted or not ranks:
            continue
        if file.requires_python and not SpecifierSet(file.requires_python).contains(python):
            continue
        if best is None or min(ranks) < best[0]:
            best = (min(ranks), file)
    return best[1] if best else None


def applies(pin: Pin, python: str) -> bool:
    """Whether the pin's environment marker (if any) selects it on Linux x86_64 CPython."""
    if pin.requirement.marker is None:
        return True
    environment = {
        "python_version": python,
        "python_full_version": f"{python}.0",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": ARCH,
        "os_name": "posix",
    }
    return pin.requirement.marker.evaluate(environment)


def describe(file: IndexFile) -> str:
    """A wheel's tags, short: 'cp313-cp313 manylinux_2_28', 'cp39-abi3 manylinux_2_17', 'py3-none-any'."""
    python, abi, platform = re.sub(r"\.whl$", "", file.filename).split("-")[-3:]
    if platform == "any":
        return f"{python}-{abi}-any"
    return f"{python}-{abi} {platform.split('.')[0].removesuffix(f'_{ARCH}')}"


def check(pyproject: Path, index_url: str, pythons: list[str] | None = None) -> int:
    """Print a table of the wheels found; return the number of (pin, Python) pairs without one."""
    pins, requires_python = read_pins(pyproject)
    pythons = pythons or supported_pythons(requires_python)
    platforms = manylinux_platforms()
    tags = {python: supported_tags(python, platforms) for python in pythons}
    with ThreadPoolExecutor(max_workers=8) as pool:  # the time is the index's latency
        listings = list(pool.map(lambda pin: fetch_files(index_url, pin.name), pins))

    rows = [["package", *(f"CPython {python}" for python in pythons)]]
    missing = 0
    for pin, files in zip(pins, listings, strict=True):
        row = [f"{pin.name}=={pin.version}"]
        for python in pythons:
            if not applies(pin, python):
                row.append("(not needed)")
                continue
            wheel = matching_wheel(files, pin, python, tags[python])
            if wheel is None:
                missing += 1
                row.append("MISSING")
            else:
                row.append(describe(wheel) + (" (yanked)" if wheel.yanked else ""))
        rows.append(row)
    print(f"Wheels on {index_url} for Linux x86_64 with glibc {'.'.join(map(str, GLIBC))}:")
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        print(
            "  "
            + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    return missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--pyproject", type=Path, default=Path(__file__).resolve().parents[2] / "pyproject.toml"
    )
    parser.add_argument("--index-url", default=PYPI, help="simple index to check (default: PyPI)")
    parser.add_argument(
        "--python",
        action="append",
        dest="pythons",
        metavar="3.X",
        help="check this Python version (repeatable; default: all that requires-python allows)",
    )
    args = parser.parse_args(argv)
    start = time.monotonic()
    try:
        missing = check(args.pyproject, args.index_url, args.pythons)
    except IndexUnreadable as error:
        print(f"check-wheels: cannot read the index: {error}", file=sys.stderr)
        return 2
    seconds = time.monotonic() - start
    if missing:
        print(f"check-wheels: FAILED, {missing} pin(s) without a wheel ({seconds:.1f} s)")
        return 1
    print(f"check-wheels: every pin has a wheel for every Python ({seconds:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
