"""The snakemake commands the docs show put their targets before the options.

Options that take several values (--configfile, --config, --set-resources, ...) swallow a target
written after them: `snakemake --configfile config/paper.yaml fold_Ses03M` reads fold_Ses03M as a
second config file and stops with Snakemake's traceback. Snakemake owns that message; the docs
show the form that works.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCUMENTS = [
    REPO / "README.md",
    *sorted((REPO / "docs").glob("*.md")),
    *sorted((REPO / "config").glob("*.yaml")),
    *sorted((REPO / "profiles").glob("*/config.yaml")),
]
# Shown on purpose as the form that fails (README, Running on a cluster).
WRONG_ON_PURPOSE = {"snakemake --configfile a.yaml fold_Ses03M"}
# Options that take several values (snakemake 9's --help: nargs "+" or "*"), but not those whose
# values are rule names (--forcerun, --until, ...), after which a rule is their value.
SEVERAL_VALUES = {
    "--configfile",
    "--configfiles",
    "--config",
    "-C",
    "--resources",
    "--res",
    "--set-resources",
    "--set-threads",
    "--set-scatter",
    "--default-resources",
    "--default-res",
    "--target-jobs",
}


def rule_names() -> set[str]:
    names = set()
    for path in [REPO / "Snakefile", *sorted((REPO / "rules").glob("*.smk"))]:
        names |= set(re.findall(r"^\s*rule (\w+):", path.read_text(), re.M))
    return names


def is_target(word: str, rules: set[str]) -> bool:
    return (
        word in rules or re.fullmatch(r"fold_\w+", word) is not None or word.startswith("results/")
    )


def commands(path: Path) -> list[str]:
    """The snakemake command lines of a document: fenced code (continuation lines joined),
    inline code, and the comments of a YAML file."""
    text = path.read_text()
    if path.suffix == ".yaml":
        lines = [
            line.lstrip()[1:].strip() for line in text.splitlines() if line.lstrip().startswith("#")
        ]
    else:
        lines = []
        for block in re.findall(r"^```[a-z]*\n(.*?)^```", text, re.M | re.S):
            lines += block.splitlines()
        lines += re.findall(r"`([^`\n]*snakemake [^`\n]*)`", text)
    joined, pending = [], ""
    for line in lines:
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        joined.append(pending + line)
        pending = ""
    found = []
    for line in joined:
        match = re.search(r"(?:^|\s|/)(snakemake\s.*)$", line)
        if match and not match.group(1).startswith("snakemake-"):
            found.append(match.group(1).split(" # ")[0].strip())
    return found


def misplaced_targets(command: str, rules: set[str]) -> list[str]:
    try:
        words = shlex.split(command)[1:]
    except ValueError:  # an unbalanced quote in prose: not a command line
        return []
    option, misplaced = None, []
    for word in words:
        if word.startswith("-"):
            option = None if "=" in word and word.startswith("--") else word
        elif option in SEVERAL_VALUES and is_target(word, rules):
            misplaced.append(f"{word} after {option}")
    return misplaced


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(REPO)))
def test_targets_come_before_the_options(path):
    rules = rule_names()
    wrong = {
        command: misplaced
        for command in commands(path)
        if command not in WRONG_ON_PURPOSE and (misplaced := misplaced_targets(command, rules))
    }
    assert wrong == {}


def test_the_check_finds_a_target_after_an_option():
    rules = rule_names()
    assert misplaced_targets("snakemake --configfile config/paper.yaml fold_Ses03M", rules) == [
        "fold_Ses03M after --configfile"
    ]
    assert misplaced_targets("snakemake data --cores 2 --config a=1 all", rules) == [
        "all after --config"
    ]
    assert misplaced_targets("snakemake fold_Ses03M --configfile config/paper.yaml", rules) == []
    assert misplaced_targets("snakemake --forcerun ingest_iemocap", rules) == []
    assert misplaced_targets("snakemake --report results/report.html", rules) == []
    # The README's example of the form that fails is among the commands this test reads.
    readme = commands(REPO / "README.md")
    assert set(readme) >= WRONG_ON_PURPOSE
    assert any(command.startswith("snakemake all --profile profiles/slurm") for command in readme)
