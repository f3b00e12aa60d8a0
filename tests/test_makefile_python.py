"""The Makefile's choice of Python for .venv, run with `make -n` (or stopping before any change)
in a copy of the Makefile, with interpreters and pyenv-like shims on a PATH of the test's own."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(MAKE is None, reason="make is not installed")
VERSION = "{}.{}".format(*sys.version_info[:2])

# What pyenv's shim prints for an installed version that is not selected.
SHIM = """#!/bin/sh
echo "pyenv: $(basename "$0"): command not found" >&2
exit 127
"""


def executable(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o755)


@pytest.fixture
def project(tmp_path) -> Path:
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "bin").mkdir()
    return tmp_path


def make(project: Path, *args: str, path: str | None = None, **env: str):
    environment = {k: v for k, v in os.environ.items() if k not in ("PYTHON", "MAKEFLAGS")}
    environment.update(PATH=path or f"{project / 'bin'}:/usr/bin:/bin", **env)
    return subprocess.run(
        [MAKE, *args], cwd=project, env=environment, capture_output=True, text=True, timeout=60
    )


def test_the_newest_python_that_starts_is_chosen_and_a_failing_shim_is_skipped(project):
    executable(project / "bin" / "python3.13", SHIM)
    for name in ("python3.12", "python3.11"):
        (project / "bin" / name).symlink_to(sys.executable)
    result = make(project, "-n", "venv")
    assert result.returncode == 0, result.stderr
    assert "\npython3.12 -m venv .venv\n" in result.stdout

    # PYTHON still names one
    result = make(project, "-n", "venv", "PYTHON=python3.11")
    assert "\npython3.11 -m venv .venv\n" in result.stdout


def test_without_a_usable_python_make_stops_before_touching_the_venv(project):
    for name in ("python3.13", "python3.12", "python3.11"):
        executable(project / "bin" / name, SHIM)
    kept = project / ".venv" / "kept"
    kept.parent.mkdir()
    kept.write_text("an old venv")
    result = make(project, "venv", path=str(project / "bin"))  # no system Python either
    assert result.returncode != 0
    assert "no usable Python 3.11-3.13 among python3.13 python3.12 python3.11" in result.stderr
    assert kept.read_text() == "an old venv"


def test_an_existing_venv_is_rebuilt_only_for_an_explicit_python_of_another_version(project):
    (project / "bin" / "python3.13").symlink_to(sys.executable)  # a newer Python appeared
    venv_python = project / ".venv" / "bin" / "python"
    venv_python.parent.mkdir(parents=True)
    stamp = project / ".venv" / ".installed"
    stamp.touch()
    os.utime(project / "pyproject.toml", (0, 0))  # the stamp is newer than the pins

    executable(venv_python, '#!/bin/sh\necho "3.10"\n')  # the venv's own Python: another version
    assert "Nothing to be done" in make(project, "-n", "venv").stdout
    result = make(project, "-n", "venv", f"PYTHON={sys.executable}")
    assert f"\n{sys.executable} -m venv .venv\n" in result.stdout
    result = make(project, "-n", "venv", PYTHON=sys.executable)  # from the environment too
    assert f"\n{sys.executable} -m venv .venv\n" in result.stdout

    executable(venv_python, f'#!/bin/sh\necho "{VERSION}"\n')  # the same version
    assert "Nothing to be done" in make(project, "-n", "venv", f"PYTHON={sys.executable}").stdout
