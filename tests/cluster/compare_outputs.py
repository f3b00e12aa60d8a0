"""Compare the outputs of two workflow runs (e.g. on Slurm and locally) and report differences.

    python tests/cluster/compare_outputs.py RUN_DIR_A RUN_DIR_B [--subdirs resources results]

Every file under the given folders of RUN_DIR_A must exist in RUN_DIR_B and vice versa, and be equal:
byte-identical, or else equal by content: CSV and JSON cell by cell (numbers within --atol/--rtol,
default exact), safetensors tensor by tensor, audio sample by sample, images pixel by pixel (by
size only under a tolerance: a curve drawn from numbers that may differ moves by a pixel).
Absolute paths of the run directories are normalised away first, and CSV columns / JSON keys
whose name looks like a wall-clock measurement (--volatile) are not compared: they are listed in
the report. Training checkpoints (results/checkpoints) are not outputs and are skipped.
Exit status 0 when everything is equal, 1 otherwise.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

# Wall-clock measurements in the pipeline's outputs (history.csv, metrics.json, a trained model's
# provenance.json); not `audio_s`, `duration` and the like, which are properties of the data.
DEFAULT_VOLATILE = (
    r"^(seconds|minutes|elapsed|elapsed_s|wall_s|timestamp|date|trained_at|training_seconds|"
    r"inference_s|startup_s|real_time_factor|\w+_per_second)$"
)
SKIPPED_DIRS = ("checkpoints",)
MAX_DETAILS = 3  # problems shown per differing file
MAX_FILES_SHOWN = 25  # differing files shown in detail


@dataclass
class Tolerance:
    atol: float = 0.0
    rtol: float = 0.0
    volatile: re.Pattern = field(default_factory=lambda: re.compile(DEFAULT_VOLATILE))

    def numbers_equal(self, a: float, b: float) -> bool:
        if math.isnan(a) and math.isnan(b):
            return True
        return a == b or abs(a - b) <= self.atol + self.rtol * abs(b)


def _count_by_folder(paths, depth: int = 3) -> list[tuple[str, int]]:
    """How many of `paths` lie under each folder `depth` levels deep (results/eval/asr-clean)."""
    return sorted(Counter("/".join(Path(rel).parent.parts[:depth]) for rel in paths).items())


@dataclass
class Report:
    identical: int = 0
    equal_by_content: list[str] = field(default_factory=list)
    differences: dict[str, list[str]] = field(default_factory=dict)  # file -> its problems
    ignored_fields: set[str] = field(default_factory=set)

    def print(self, label: str) -> None:
        print(
            f"compared {label}: {self.identical} files byte-identical, "
            f"{len(self.equal_by_content)} equal by content, {len(self.differences)} different"
        )
        if len(self.equal_by_content) <= MAX_FILES_SHOWN:
            for rel in self.equal_by_content:
                print(f"  equal by content (bytes differ): {rel}")
        else:
            for folder, count in _count_by_folder(self.equal_by_content):
                print(f"  equal by content (bytes differ): {count:5d} in {folder}/")
        if self.ignored_fields:
            print(f"  fields not compared (timings): {', '.join(sorted(self.ignored_fields))}")
        if not self.differences:
            print(f"SAME: all {self.identical + len(self.equal_by_content)} files equal")
            return
        print("first differences:")
        for rel, problems in list(self.differences.items())[:MAX_FILES_SHOWN]:
            for problem in problems[:MAX_DETAILS]:
                print(f"  {rel}: {problem}")
            if len(problems) > MAX_DETAILS:
                print(f"  {rel}: ... {len(problems) - MAX_DETAILS} more")
        if len(self.differences) > MAX_FILES_SHOWN:
            print(f"  ... and {len(self.differences) - MAX_FILES_SHOWN} more file(s)")
        # Last, so that a log's tail (all a CI summary may show) holds the whole extent.
        print(f"DIFFERENT: {len(self.differences)} file(s) differ; by folder:")
        for folder, count in _count_by_folder(self.differences):
            print(f"  {count:5d}  {folder}/")


def _as_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _values_equal(a: object, b: object, tol: Tolerance) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        if a == b:
            return True
        x, y = _as_number(a), _as_number(b)
        return x is not None and y is not None and tol.numbers_equal(x, y)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return tol.numbers_equal(float(a), float(b))
    return a == b


def compare_csv(text_a: str, text_b: str, tol: Tolerance, report: Report) -> list[str]:
    rows_a = list(csv.reader(io.StringIO(text_a)))
    rows_b = list(csv.reader(io.StringIO(text_b)))
    if not rows_a or not rows_b:
        return [] if rows_a == rows_b else ["one file is empty"]
    header_a, header_b = rows_a[0], rows_b[0]
    if header_a != header_b:
        return [f"columns differ: {header_a} vs {header_b}"]
    if len(rows_a) != len(rows_b):
        return [f"{len(rows_a) - 1} vs {len(rows_b) - 1} rows"]
    volatile = {i for i, name in enumerate(header_a) if tol.volatile.search(name)}
    report.ignored_fields.update(header_a[i] for i in volatile)
    key = header_a.index("utt_id") if "utt_id" in header_a else None
    problems = []
    for number, (row_a, row_b) in enumerate(zip(rows_a[1:], rows_b[1:], strict=True), start=1):
        where = f"row {number}" + (f" ({row_a[key]})" if key is not None else "")
        if len(row_a) != len(row_b):
            problems.append(f"{where}: {len(row_a)} vs {len(row_b)} cells")
            continue
        for i, (a, b) in enumerate(zip(row_a, row_b, strict=True)):
            if i not in volatile and not _values_equal(a, b, tol):
                problems.append(f"{where}, column {header_a[i]}: {a!r} vs {b!r}")
    return problems


def _compare_json_values(a: object, b: object, path: str, tol: Tolerance, report: Report) -> list:
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return [f"{path or '/'}: keys {sorted(set(a) ^ set(b))} in only one file"]
        problems = []
        for name in a:
            if tol.volatile.search(name):
                report.ignored_fields.add(name)
                continue
            problems += _compare_json_values(a[name], b[name], f"{path}/{name}", tol, report)
        return problems
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} vs {len(b)} items"]
        problems = []
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            problems += _compare_json_values(x, y, f"{path}[{i}]", tol, report)
        return problems
    return [] if _values_equal(a, b, tol) else [f"{path}: {a!r} vs {b!r}"]


def compare_json(text_a: str, text_b: str, tol: Tolerance, report: Report) -> list[str]:
    return _compare_json_values(json.loads(text_a), json.loads(text_b), "", tol, report)


def compare_safetensors(path_a: Path, path_b: Path, tol: Tolerance) -> list[str]:
    from safetensors.torch import load_file

    tensors_a, tensors_b = load_file(path_a), load_file(path_b)
    if set(tensors_a) != set(tensors_b):
        return [f"tensors {sorted(set(tensors_a) ^ set(tensors_b))} in only one file"]
    problems = []
    for name, a in tensors_a.items():
        b = tensors_b[name]
        if a.shape != b.shape or a.dtype != b.dtype:
            problems.append(f"{name}: {a.dtype}{list(a.shape)} vs {b.dtype}{list(b.shape)}")
            continue
        if a.is_floating_point():
            diff = (a.double() - b.double()).abs()
            bound = tol.atol + tol.rtol * b.double().abs()
            if bool((diff > bound).any()):
                problems.append(f"{name}: max |difference| {diff.max().item():.3g}")
        elif not bool((a == b).all()):
            problems.append(f"{name}: integer values differ")
    return problems


def compare_audio(path_a: Path, path_b: Path, tol: Tolerance) -> list[str]:
    import numpy as np
    import soundfile

    a, rate_a = soundfile.read(path_a, dtype="float64", always_2d=True)
    b, rate_b = soundfile.read(path_b, dtype="float64", always_2d=True)
    if rate_a != rate_b or a.shape != b.shape:
        return [f"{rate_a} Hz {a.shape} vs {rate_b} Hz {b.shape}"]
    if not np.allclose(a, b, rtol=tol.rtol, atol=tol.atol):
        return [f"samples differ, max |difference| {np.abs(a - b).max():.3g}"]
    return []


def compare_image(path_a: Path, path_b: Path, tol: Tolerance) -> list[str]:
    import matplotlib.image
    import numpy as np

    a, b = matplotlib.image.imread(path_a), matplotlib.image.imread(path_b)
    if a.shape != b.shape:
        return [f"image size {a.shape} vs {b.shape}"]
    exact = tol.atol == 0 and tol.rtol == 0
    if exact and not np.array_equal(a, b):
        return [f"{int((a != b).any(axis=-1).sum())} pixels differ"]
    return []


def _normalised_text(path: Path, run_dir: Path) -> str | None:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None
    return text.replace(str(run_dir.resolve()), "<RUN>").replace(str(run_dir), "<RUN>")


def compare_file(rel: Path, run_a: Path, run_b: Path, tol: Tolerance, report: Report) -> list[str]:
    path_a, path_b = run_a / rel, run_b / rel
    if path_a.read_bytes() == path_b.read_bytes():
        report.identical += 1
        return []
    suffix = rel.suffix.lower()
    if suffix == ".safetensors":
        problems = compare_safetensors(path_a, path_b, tol)
    elif suffix in (".flac", ".wav"):
        problems = compare_audio(path_a, path_b, tol)
    elif suffix in (".png", ".jpg", ".jpeg"):
        problems = compare_image(path_a, path_b, tol)
    else:
        text_a, text_b = _normalised_text(path_a, run_a), _normalised_text(path_b, run_b)
        if text_a is None or text_b is None:
            problems = ["binary contents differ"]
        elif text_a == text_b:
            problems = []
        elif suffix in (".csv", ".tsv"):
            problems = compare_csv(text_a, text_b, tol, report)
        elif suffix == ".json":
            problems = compare_json(text_a, text_b, tol, report)
        else:
            problems = ["text differs"]
    if not problems:
        report.equal_by_content.append(str(rel))
    return problems


def _files_under(root: Path) -> set[Path]:
    return {
        path.relative_to(root)
        for path in root.rglob("*")
        if path.is_file() and not any(part in SKIPPED_DIRS for part in path.relative_to(root).parts)
    }


def compare_runs(run_a: Path, run_b: Path, subdirs: list[str], tol: Tolerance) -> Report:
    """Compare the files under each of `subdirs` (in that order: upstream outputs first)."""
    report = Report()
    for subdir in subdirs:
        files_a, files_b = _files_under(run_a / subdir), _files_under(run_b / subdir)
        for rel in sorted(files_a | files_b):
            name = f"{subdir}/{rel}"
            if rel not in files_b:
                problems = [f"only in {run_a}"]
            elif rel not in files_a:
                problems = [f"only in {run_b}"]
            else:
                problems = compare_file(Path(subdir) / rel, run_a, run_b, tol, report)
            if problems:
                report.differences[name] = problems
        if not files_a and not files_b:
            report.differences[f"{subdir}/"] = ["no files in either run"]
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_a", type=Path)
    parser.add_argument("run_b", type=Path)
    parser.add_argument(
        "--subdirs",
        nargs="+",
        default=["results"],
        help="folders to compare in both runs, upstream first (default: results)",
    )
    parser.add_argument("--atol", type=float, default=0.0, help="absolute tolerance of numbers")
    parser.add_argument("--rtol", type=float, default=0.0, help="relative tolerance of numbers")
    parser.add_argument(
        "--volatile",
        default=DEFAULT_VOLATILE,
        help="regex of CSV column / JSON key names not compared (timings)",
    )
    args = parser.parse_args(argv)
    for run in (args.run_a, args.run_b):
        for subdir in args.subdirs:
            if not (run / subdir).is_dir():
                parser.error(f"{run / subdir} is not a directory")
    tol = Tolerance(args.atol, args.rtol, re.compile(args.volatile))
    report = compare_runs(args.run_a, args.run_b, args.subdirs, tol)
    report.print(f"{', '.join(args.subdirs)} of {args.run_a} with those of {args.run_b}")
    return 1 if report.differences else 0


if __name__ == "__main__":
    sys.exit(main())
