"""tests/wheels/check_wheels.py (make check-wheels) against a local simple index, as pip reads one,
and the supported Pythons agreeing across pyproject.toml, the Makefile and the conda env."""

from __future__ import annotations

import html
import importlib.util
import json
import re
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tests" / "wheels" / "check_wheels.py"

_spec = importlib.util.spec_from_file_location("check_wheels", SCRIPT)
check_wheels = importlib.util.module_from_spec(_spec)
sys.modules["check_wheels"] = check_wheels  # dataclasses look their module up there
_spec.loader.exec_module(check_wheels)

PYTHONS = ["3.11", "3.12", "3.13"]


def write_index(root: Path, files: dict[str, list[str | tuple[str, dict[str, str]]]]) -> str:
    """A PEP 503 index folder: one page per project, each file an anchor (with attributes)."""
    for project, entries in files.items():
        page = root / "simple" / project
        page.mkdir(parents=True)
        anchors = []
        for entry in entries:
            filename, attrs = (entry, {}) if isinstance(entry, str) else entry
            extra = "".join(f' {key}="{html.escape(value)}"' for key, value in attrs.items())
            anchors.append(f'<a href="../../files/{filename}#sha256=00"{extra}>{filename}</a><br/>')
        page.joinpath("index.html").write_text(
            "<html><body>\n" + "\n".join(anchors) + "\n</body></html>"
        )
    return (root / "simple").as_uri()


def write_pyproject(path: Path, dependencies: list[str], dev: list[str] = ()) -> Path:
    path.write_text(
        textwrap.dedent(
            f"""\
            [project]
            name = "demo"
            version = "0"
            requires-python = ">=3.11,<3.14"
            dependencies = {json.dumps(dependencies)}

            [project.optional-dependencies]
            dev = {json.dumps(list(dev))}
            """
        )
    )
    return path


def run(tmp_path, capsys, files, dependencies, dev=()) -> tuple[int, dict[str, list[str]], str]:
    """main()'s exit status, its table (one list of cells per package) and its last line."""
    index = write_index(tmp_path / "index", files)
    pyproject = write_pyproject(tmp_path / "pyproject.toml", dependencies, dev)
    status = check_wheels.main(["--pyproject", str(pyproject), "--index-url", index])
    lines = capsys.readouterr().out.splitlines()
    table = {}
    for line in lines[1:-1]:
        cells = re.split(r"\s{2,}", line.strip())
        table[cells[0]] = cells[1:]
    return status, table, lines[-1]


def test_a_pin_without_a_wheel_for_one_python_fails_for_that_python_only(tmp_path, capsys):
    status, table, verdict = run(
        tmp_path,
        capsys,
        {
            "fast": [f"fast-1.0-cp3{m}-cp3{m}-manylinux_2_28_x86_64.whl" for m in (11, 12, 13)],
            "pure": ["pure-2.0.tar.gz", "pure-2.0-py3-none-any.whl"],
            # 3.13's wheel came with a later release; the pinned one has none.
            "old-pkg": [
                "old_pkg-0.5.tar.gz",
                "old_pkg-0.5-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
                "old_pkg-0.5-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
                "old_pkg-0.6-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            ],
            "tool": ["tool-3.0-cp39-abi3-manylinux_2_17_x86_64.whl"],
        },
        ["fast==1.0", "pure==2.0", "Old_Pkg==0.5"],
        dev=["tool==3.0"],
    )
    assert status == 1
    assert table["package"] == [f"CPython {python}" for python in PYTHONS]
    assert table["fast==1.0"] == [f"cp3{m}-cp3{m} manylinux_2_28" for m in (11, 12, 13)]
    assert table["pure==2.0"] == ["py3-none-any"] * 3
    assert table["old-pkg==0.5"] == [
        "cp311-cp311 manylinux_2_17",
        "cp312-cp312 manylinux_2_17",
        "MISSING",
    ]
    assert table["tool==3.0"] == ["cp39-abi3 manylinux_2_17"] * 3
    assert verdict.startswith("check-wheels: FAILED, 1 pin(s) without a wheel")


def test_every_pin_with_a_wheel_passes(tmp_path, capsys):
    status, table, verdict = run(
        tmp_path,
        capsys,
        {
            "pure": ["pure-2.0-py2.py3-none-any.whl"],
            "old": ["old-1.0-cp35-abi3-manylinux1_x86_64.whl"],
        },
        ["pure==2.0", "old==1.0"],
    )
    assert status == 0
    assert verdict.startswith("check-wheels: every pin has a wheel for every Python")
    assert table["pure==2.0"] == ["py2.py3-none-any"] * 3
    assert table["old==1.0"] == ["cp35-abi3 manylinux1"] * 3


@pytest.mark.parametrize(
    "wheel",
    [
        "demo-1.0-cp313-cp313t-manylinux_2_28_x86_64.whl",  # free-threaded build only
        "demo-1.0-cp313-cp313-manylinux_2_34_x86_64.whl",  # needs a newer glibc than torch's
        "demo-1.0-cp313-cp313-musllinux_1_2_x86_64.whl",
        "demo-1.0-cp313-cp313-manylinux_2_28_aarch64.whl",
        "demo-1.0-cp313-cp313-macosx_11_0_arm64.whl",
        "demo-1.0-cp313-cp313-win_amd64.whl",
        "demo-1.0-cp312-cp312-manylinux_2_28_x86_64.whl",  # another Python's
        "demo-1.0-pp310-pypy310_pp73-manylinux_2_28_x86_64.whl",
        "demo-1.0.tar.gz",  # an sdist is not a wheel
        "demo-1.1-py3-none-any.whl",  # another version
    ],
)
def test_a_wheel_that_cpython_313_on_linux_cannot_install_does_not_count(wheel):
    pin = check_wheels.Pin("demo", "1.0", check_wheels.Requirement("demo==1.0"))
    tags = check_wheels.supported_tags("3.13", check_wheels.manylinux_platforms())
    files = [check_wheels.IndexFile(wheel, None, False)]
    assert check_wheels.matching_wheel(files, pin, "3.13", tags) is None


@pytest.mark.parametrize(
    "wheel",
    [
        "demo-1.0-cp313-cp313-manylinux_2_28_x86_64.whl",
        "demo-1.0-cp313-cp313-manylinux_2_12_x86_64.whl",  # any older glibc runs too (PEP 600)
        "demo-1.0-cp313-cp313-manylinux2010_x86_64.whl",
        "demo-1.0-cp38-abi3-manylinux_2_5_x86_64.manylinux1_x86_64.whl",
        "demo-1.0-py3-none-manylinux_2_17_x86_64.whl",
        "demo-1.0-py2.py3-none-any.whl",
        "demo-1.0-cp313-none-any.whl",
    ],
)
def test_a_wheel_that_cpython_313_on_linux_installs_counts(wheel):
    pin = check_wheels.Pin("demo", "1.0", check_wheels.Requirement("demo==1.0"))
    tags = check_wheels.supported_tags("3.13", check_wheels.manylinux_platforms())
    files = [check_wheels.IndexFile(wheel, None, False)]
    assert check_wheels.matching_wheel(files, pin, "3.13", tags) == files[0]


def test_pip_s_preferred_wheel_is_reported_and_requires_python_is_honoured():
    pin = check_wheels.Pin("demo", "1.0", check_wheels.Requirement("demo==1.0"))
    files = [
        check_wheels.IndexFile("demo-1.0-py3-none-any.whl", ">=3.12", False),
        check_wheels.IndexFile("demo-1.0-cp313-cp313-manylinux_2_17_x86_64.whl", None, False),
    ]
    platforms = check_wheels.manylinux_platforms()
    pick = {
        python: check_wheels.matching_wheel(
            files, pin, python, check_wheels.supported_tags(python, platforms)
        )
        for python in PYTHONS
    }
    assert pick["3.11"] is None  # the pure wheel's Requires-Python excludes 3.11
    assert pick["3.12"].filename == "demo-1.0-py3-none-any.whl"
    assert pick["3.13"].filename == "demo-1.0-cp313-cp313-manylinux_2_17_x86_64.whl"


def test_both_index_formats_are_read_alike():
    html_page = (
        '<a href="https://files.example/x/demo-1.0-py3-none-any.whl#sha256=ab" '
        'data-requires-python="&gt;=3.11" data-yanked="">demo-1.0-py3-none-any.whl</a>'
        '<a href="demo-1.0.tar.gz">demo-1.0.tar.gz</a>'
    )
    json_page = json.dumps(
        {
            "files": [
                {
                    "filename": "demo-1.0-py3-none-any.whl",
                    "requires-python": ">=3.11",
                    "yanked": "",
                },
                {"filename": "demo-1.0.tar.gz", "yanked": False},
            ]
        }
    )
    from_html = check_wheels.parse_listing(html_page, "text/html")
    from_json = check_wheels.parse_listing(json_page, check_wheels.JSON_SIMPLE)
    assert from_html == [
        check_wheels.IndexFile("demo-1.0-py3-none-any.whl", ">=3.11", True),
        check_wheels.IndexFile("demo-1.0.tar.gz", None, False),
    ]
    # PEP 691: "yanked" is true or a reason string; an empty reason still means yanked
    assert [f.filename for f in from_json] == [f.filename for f in from_html]
    assert from_json[0].requires_python == ">=3.11" and from_json[1].yanked is False


def test_a_compressed_json_page_is_read(monkeypatch):
    """PyPI answers in PEP 691 JSON, gzip-compressed when asked to."""
    import email.message
    import gzip
    import io

    body = json.dumps({"files": [{"filename": "demo-1.0-py3-none-any.whl", "yanked": False}]})
    headers = email.message.Message()
    headers["Content-Type"] = check_wheels.JSON_SIMPLE
    headers["Content-Encoding"] = "gzip"
    asked = {}

    class Response(io.BytesIO):
        def __init__(self, request):
            asked.update(url=request.full_url, headers=dict(request.header_items()))
            super().__init__(gzip.compress(body.encode()))
            self.headers = headers

    monkeypatch.setattr(
        check_wheels.urllib.request, "urlopen", lambda request, timeout: Response(request)
    )
    files = check_wheels.fetch_files("https://pypi.example/simple", "demo")
    assert files == [check_wheels.IndexFile("demo-1.0-py3-none-any.whl", None, False)]
    assert asked["url"] == "https://pypi.example/simple/demo/"
    assert asked["headers"]["Accept-encoding"] == "gzip"
    assert asked["headers"]["Accept"].startswith(check_wheels.JSON_SIMPLE)


def test_a_pin_that_is_not_exact_is_refused_by_name(tmp_path):
    pyproject = write_pyproject(tmp_path / "pyproject.toml", ["torch>=2.11"])
    with pytest.raises(SystemExit, match=r"'torch>=2.11' is not an exact pin"):
        check_wheels.read_pins(pyproject)


def test_an_unreadable_index_is_a_named_error(tmp_path, capsys):
    pyproject = write_pyproject(tmp_path / "pyproject.toml", ["demo==1.0"])
    index = (tmp_path / "no-index").as_uri()
    assert check_wheels.main(["--pyproject", str(pyproject), "--index-url", index]) == 2
    assert "no-index/demo/index.html" in capsys.readouterr().err


def test_the_supported_pythons_come_from_a_bounded_requires_python():
    assert check_wheels.supported_pythons(">=3.11,<3.14") == PYTHONS
    with pytest.raises(SystemExit, match="bounded range"):
        check_wheels.supported_pythons(">=3.11")


def test_pyproject_makefile_and_conda_env_name_the_same_pythons():
    import tomllib

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pythons = check_wheels.supported_pythons(pyproject["project"]["requires-python"])
    assert pythons == PYTHONS
    makefile = (ROOT / "Makefile").read_text()
    candidates = re.search(r"^SUPPORTED_PYTHONS := (.+)$", makefile, re.M).group(1).split()
    assert candidates == [f"python{p}" for p in reversed(pythons)]  # newest first
    low, high = (tuple(map(int, p.split("."))) for p in (pythons[0], pythons[-1]))
    assert f"not {low} <= sys.version_info[:2] <= {high}" in makefile
    conda = (ROOT / "envs" / "asrser.yaml").read_text()
    assert f"- python>={pythons[0]},<3.{high[1] + 1}\n" in conda
    # ruff checks for the oldest supported Python's syntax
    assert pyproject["tool"]["ruff"]["target-version"] == "py" + pythons[0].replace(".", "")
