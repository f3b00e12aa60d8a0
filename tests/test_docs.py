"""The docs cannot go stale: the README's size and citation, every relative link, every quoted
snakemake command (dry-run on test fixtures), and the rule-graph picture.

Commands are read from README.md and docs/*.md: the lines of fenced code blocks (continuation
lines joined), except blocks marked `text`, which show a program's output, and the inline code
spans of the prose. Each is dry-run from the repository root with `-n`, in a temporary working
directory, the corpus roots replaced by IEMOCAP- and MUSAN-format fixtures and the hub models by
a models folder of tiny stand-ins, as tests/test_workflow_plan.py does.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest
from fixtures import make_iemocap_tree, make_musan_tree
from tiny_models import paper_hub
from workflow_helpers import REPO, SNAKEMAKE

DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
README_MAX_LINES = 200
CITATION = (
    "Bansal",
    "Dubagunta",
    "Chetlur",
    "Jagtap",
    "Ganapathiraju",
    "On the Efficacy and Noise-Robustness of Jointly Learned Speech Emotion and Automatic Speech "
    "Recognition",
    "Interspeech 2023",
    "arXiv:2305.12540",
)
# Quoted commands that a dry run cannot check, each for its reason.
NOT_DRY_RUN = {
    # Shown on purpose as the form that fails (a target after --configfile).
    "snakemake --configfile a.yaml fold_Ses03M": "the wrong form, shown as such",
    # The report needs a finished study; before one the plan stops by design (tested in
    # tests/test_workflow_plan.py).
    "snakemake --report results/report.html": "needs a finished study",
    # Snakemake's conda deployment calls conda even in a dry run; the suite runs without it.
    "snakemake --sdm conda": "needs conda",
    # Forces a download from the hub, which the tests never reach (the fetch itself is tested
    # with a stub hub in tests/test_workflow_plan.py).
    "snakemake fetch_models --cores 1 --forcerun fetch_model --configfile config/paper.yaml "
    "--config iemocap_root=/data/IEMOCAP_full_release musan_root=/data/musan": "needs the hub",
}
CORPUS_KEYS = {"iemocap_root": "IEMOCAP", "musan_root": "musan"}
_FENCE = re.compile(r"^[ \t]*```([\w-]*)\n(.*?)^[ \t]*```", re.M | re.S)
_INLINE = re.compile(r"`([^`\n]*\bsnakemake [^`\n]*)`")
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


# --- reading the documents -------------------------------------------------------------------


def prose(text: str) -> str:
    """The text without its fenced code blocks."""
    return _FENCE.sub("", text)


def quoted_commands(path: Path) -> list[str]:
    """The snakemake command lines a document quotes, from `snakemake` on."""
    text = path.read_text()
    lines = []
    for language, block in _FENCE.findall(text):
        if language != "text":
            lines += block.splitlines()
    lines += _INLINE.findall(prose(text))
    joined, pending = [], ""
    for line in lines:
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1].strip() + " "
            continue
        joined.append((pending + line.strip()).strip())
        pending = ""
    found = []
    for line in joined:
        match = re.search(r"(?:^|\s|/)(snakemake\s.*)$", line.split(" # ")[0])
        if match and not match.group(1).startswith("snakemake-"):
            found.append(" ".join(match.group(1).split()))
    return found


def all_quoted_commands() -> dict[str, list[str]]:
    """Each distinct command, with the documents that quote it."""
    commands: dict[str, list[str]] = {}
    for path in DOCUMENTS:
        for command in quoted_commands(path):
            commands.setdefault(command, []).append(str(path.relative_to(REPO)))
    return commands


def heading_anchors(path: Path) -> set[str]:
    """GitHub's anchors of a Markdown file's headings."""
    anchors, seen = set(), {}
    for heading in re.findall(r"^#{1,6}\s+(.*?)\s*$", prose(path.read_text()), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower().replace("`", "")).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def broken_links(path: Path) -> list[str]:
    broken = []
    for target in _LINK.findall(prose(path.read_text())):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in heading_anchors(linked):
            broken.append(f"{target}: no heading with that anchor")
    return broken


# --- the tests ---------------------------------------------------------------------------------


def test_the_readme_is_short_and_cites_the_paper():
    text = (REPO / "README.md").read_text()
    assert len(text.splitlines()) <= README_MAX_LINES
    flowing = " ".join(line.lstrip("> ").strip() for line in text.splitlines())
    missing = [part for part in CITATION if part not in flowing]
    assert missing == []


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_resolves(path):
    assert broken_links(path) == []


def test_the_link_check_finds_a_broken_link_and_a_missing_anchor(tmp_path):
    (tmp_path / "a.md").write_text("# Title `x`\n\n## Sub part: y\n")
    page = tmp_path / "b.md"
    page.write_text(
        "[ok](a.md#sub-part-y) [ok](a.md#title-x) [ok](#own) [web](https://x.org/a)\n"
        "# Own\n[gone](nowhere.md) [bad](a.md#nope)\n```\n[in code](ignored.md)\n```\n"
    )
    assert broken_links(page) == [
        "nowhere.md: no such file",
        "a.md#nope: no heading with that anchor",
    ]


def test_commands_are_read_from_code_blocks_and_prose_but_not_from_output(tmp_path):
    page = tmp_path / "p.md"
    page.write_text(
        "Run `snakemake data --cores 1`.\n```bash\n.venv/bin/snakemake all \\\n"
        "    --cores 2  # comment\n```\n```text\nrun `snakemake fetch_models --config ...`\n```\n"
    )
    assert quoted_commands(page) == ["snakemake all --cores 2", "snakemake data --cores 1"]


def test_the_docs_quote_the_commands_a_newcomer_needs():
    commands = all_quoted_commands()
    starts = [command.split(" --")[0] for command in commands]
    for needed in ("snakemake preflight", "snakemake all", "snakemake fold_Ses03M"):
        assert needed in starts, needed
    assert set(NOT_DRY_RUN) <= set(commands), "an exception no document needs any more"


@pytest.fixture(scope="module")
def fixture_roots(tmp_path_factory):
    root = tmp_path_factory.mktemp("doc_corpora")
    make_iemocap_tree(root / "IEMOCAP", per_emotion=1, seconds=0.2, bad_cases=False)
    make_musan_tree(root / "musan", files_per_subset=1, seconds=0.2, bad_cases=False)
    paper_hub(root / "models")
    return root


def on_fixtures(command: str, roots: Path) -> list[str]:
    """The command's words, to run with the test's snakemake on the fixture corpora: corpus
    roots replaced, and with config/paper.yaml the models folder of tiny stand-ins."""
    words = shlex.split(command)[1:]
    replaced = []
    for word in words:
        key, equals, value = word.partition("=")
        if equals and key in CORPUS_KEYS:
            word = f"{key}={roots / CORPUS_KEYS[key]}"
        elif value.startswith("/path/to/"):
            word = f"{key}={roots / 'path_to' / value.removeprefix('/path/to/')}"
        replaced.append(word)
    if "config/paper.yaml" in replaced:
        models = f"models_dir={roots / 'models'}"
        if "--config" in replaced:
            replaced.insert(replaced.index("--config") + 1, models)
        else:
            replaced += ["--config", models]
    return replaced


def test_every_quoted_snakemake_command_plans_on_the_fixtures(tmp_path, fixture_roots):
    failed = {}
    for command, documents in sorted(all_quoted_commands().items()):
        if command in NOT_DRY_RUN:
            continue
        workdir = tmp_path / f"run{len(failed)}_{abs(hash(command))}"
        workdir.mkdir()
        result = subprocess.run(
            [
                str(SNAKEMAKE),
                *on_fixtures(command, fixture_roots),
                "--snakefile",
                str(REPO / "Snakefile"),
                "--directory",
                str(workdir),
                "-n",
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=600,
            env={
                **os.environ,
                "HF_HUB_OFFLINE": "1",
                "TRANSFORMERS_OFFLINE": "1",
                "TMPDIR": str(tmp_path),
            },
        )
        if result.returncode != 0:
            failed[command] = f"{command} ({', '.join(documents)}):\n{result.stderr[-1500:]}"
    assert not failed, "\n\n".join(failed.values())


def _rulegraph_module():
    spec = importlib.util.spec_from_file_location("rulegraph", REPO / "docs" / "rulegraph.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_rule_graph_picture_is_current():
    """docs/rulegraph.dot is what `snakemake --rulegraph` prints now (edges sorted), and
    docs/rulegraph.svg was rendered from it (`make rulegraph` records the .dot's digest)."""
    rulegraph = _rulegraph_module()
    committed = rulegraph.DOT_FILE.read_text()
    assert committed == rulegraph.current_rulegraph(SNAKEMAKE), "run `make rulegraph`"
    svg = rulegraph.SVG_FILE.read_text()
    assert rulegraph.DIGEST_COMMENT.format(digest=rulegraph.digest(committed)) in svg
    assert "<svg" in svg and "train_model" in svg


def test_the_rule_graph_is_canonical_whatever_the_edge_order():
    rulegraph = _rulegraph_module()
    one = 'digraph g {\n\t0[label = "all"];\n\t1[label = "a"];\n\t2 -> 0\n\t1 -> 0\n\t1 -> 2\n}\n'
    other = 'digraph g {\n\t0[label = "all"];\n\t1[label = "a"];\n\t1 -> 2\n\t1 -> 0\n\t2 -> 0\n}'
    assert rulegraph.canonical(one) == rulegraph.canonical(other)
    assert rulegraph.canonical(one).endswith("\t1 -> 0\n\t1 -> 2\n\t2 -> 0\n}\n")
    with pytest.raises(ValueError):
        rulegraph.canonical("Building DAG of jobs...")
