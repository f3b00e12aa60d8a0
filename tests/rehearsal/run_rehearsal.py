"""The paper path rehearsed end to end on the CPU: `make rehearsal`.

Runs config/paper.yaml unchanged but for
  - the corpus roots: IEMOCAP- and MUSAN-format trees written here (tests/rehearsal/corpus.py:
    IEMOCAP-like durations, one utterance of 33 s);
  - the models folder: the paper's architectures at full size with random weights
    (asrser.models.paper_architecture) in <models_dir>/facebook/wav2vec2-large-960h-lv60-self and
    <models_dir>/bert-base-uncased, used as folders filled by hand;
  - one epoch, on the CPU (device cpu, resources.gpu 0),
  - one job per evaluation (evaluation.jobs per_evaluation, the packing `auto` picks on a cluster),
and builds one fold (fold_Ses01F: 6 trainings, 42 evaluation jobs, and the data stage) through the workflow's own rules, scripts and
loading code, with the hub offline, in a temporary working directory (never ./results).

It prints its wall time, the peak memory of the whole process tree (the resident memory of
Snakemake and its jobs, summed, sampled twice a second), the peak size of the checkpoint root
(sampled once a second) and the jobs run per rule. It fails (non-zero) when Snakemake fails, when
it ran other jobs than expected, when a training or evaluation job ran beside another job, or
when the long utterance was not where the corpus put it.

    .venv/bin/python tests/rehearsal/run_rehearsal.py [--keep] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))

from prepare import FOLD, config_settings, prepare  # noqa: E402

PAPER_CONFIG = REPO / "config" / "paper.yaml"
# What fold_Ses01F runs from scratch: the data stage, 3 models x 2 training conditions, each
# model on the 7 test conditions, one job per evaluation.
EXPECTED_JOBS = {
    "ingest_iemocap": 1,
    "ingest_musan": 1,
    "mix_corpus": 8,
    "make_fold": 1,
    "train_model": 6,
    "evaluate_condition": 42,
    f"fold_{FOLD}": 1,
}
# Jobs that load a full-size model: each must have the machine to itself (a second one beside
# it would double the memory; with --cores 2 Snakemake gives each both cores).
HEAVY_RULES = ("train_model", "evaluate_condition")
CORES = 2
# Disk the run needs: two start models (1.7 GB), six model folders (7.6 GB), one training's
# checkpoints at their peak (8.8 GB), the corpora (a few hundred MB).
NEEDED_DISK_GB = 20
RUN_LIMIT_S = 45 * 60

JOB_START = re.compile(r"^\s*(?:local)?rule (\w+):\s*$")
JOB_ID = re.compile(r"^\s*jobid: (\d+)\s*$")
JOB_FINISHED = re.compile(r"Finished jobid: (\d+) \(Rule: (\w+)\)")
TIMESTAMP = re.compile(r"^\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]$")


# --------------------------------------------------------------------------- Snakemake's log
@dataclass
class JobLog:
    """What Snakemake's output says about the jobs it ran, read line by line."""

    started: dict[int, str] = field(default_factory=dict)  # jobid -> rule
    finished: Counter = field(default_factory=Counter)  # rule -> jobs finished
    running: dict[int, str] = field(default_factory=dict)
    # The most jobs that ran at once beside a heavy job (0: it ran alone), and where.
    beside_heavy: int = 0
    beside_heavy_example: str = ""
    seconds: Counter = field(default_factory=Counter)  # rule -> summed job wall seconds
    _pending_rule: str | None = None
    _last_time: float | None = None
    _start_times: dict[int, float] = field(default_factory=dict)

    def feed(self, line: str) -> str | None:
        """Read one line; returns the rule of a job that just finished, else None."""
        stamp = TIMESTAMP.match(line.strip())
        if stamp:
            self._last_time = time.mktime(time.strptime(stamp.group(1), "%a %b %d %H:%M:%S %Y"))
            return None
        start = JOB_START.match(line)
        if start:
            self._pending_rule = start.group(1)
            return None
        job = JOB_ID.match(line)
        if job and self._pending_rule is not None:
            jobid, rule = int(job.group(1)), self._pending_rule
            self._pending_rule = None
            self.started[jobid] = rule
            self.running[jobid] = rule
            if self._last_time is not None:
                self._start_times[jobid] = self._last_time
            self._check_concurrency()
            return None
        done = JOB_FINISHED.search(line)
        if done:
            jobid, rule = int(done.group(1)), done.group(2)
            self.running.pop(jobid, None)
            self.finished[rule] += 1
            if jobid in self._start_times and self._last_time is not None:
                self.seconds[rule] += self._last_time - self._start_times[jobid]
            return rule
        return None

    def _check_concurrency(self) -> None:
        if any(rule in HEAVY_RULES for rule in self.running.values()):
            others = len(self.running) - 1
            if others > self.beside_heavy:
                self.beside_heavy = others
                self.beside_heavy_example = ", ".join(sorted(self.running.values()))


# ---------------------------------------------------------------------------- sampling
def _tree_rss_psutil(pid: int) -> list[tuple[str, int]]:
    import psutil

    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []
    sampled = []
    for process in processes:
        try:
            sampled.append((" ".join(process.cmdline()), process.memory_info().rss))
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return sampled


def _tree_rss_proc(pid: int) -> list[tuple[str, int]]:
    """The same from /proc (Linux) where psutil is missing."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    sampled, todo = [], [pid]
    while todo:
        current = todo.pop()
        todo += children.get(current, [])
        try:
            status = Path(f"/proc/{current}/status").read_text()
            command = Path(f"/proc/{current}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
        if match:
            sampled.append((command, int(match.group(1)) * 1024))
    return sampled


def tree_rss(pid: int) -> list[tuple[str, int]]:
    """(command line, resident bytes) of `pid` and all its descendants."""
    try:
        import psutil  # noqa: F401
    except ImportError:
        return _tree_rss_proc(pid)
    return _tree_rss_psutil(pid)


def tree_bytes(folder: Path) -> int:
    """Bytes of the files under `folder`, tolerating files that come and go while it looks."""
    total = 0
    for parent, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.stat(os.path.join(parent, name)).st_size
            except OSError:
                continue
    return total


@dataclass
class Peaks:
    memory_bytes: int = 0
    largest_process_bytes: int = 0
    largest_process: str = ""
    checkpoint_bytes: int = 0
    # The machine's 1-minute load average, sampled: above the cores in use, other work shared
    # the CPUs and the wall time says less.
    load_samples: list[float] = field(default_factory=list)


def job_name(command: str) -> str:
    """The rule a process runs (Snakemake runs a script as .snakemake/scripts/tmp*.<name>.py)."""
    match = re.search(r"\.(\w+)\.py\b", command)
    return match.group(1) if match else "snakemake"


def sample(pid: int, checkpoint_root: Path, peaks: Peaks, stop: threading.Event) -> None:
    last_disk = 0.0
    while not stop.wait(0.5):
        processes = tree_rss(pid)
        peaks.memory_bytes = max(peaks.memory_bytes, sum(rss for _, rss in processes))
        for command, rss in processes:
            if rss > peaks.largest_process_bytes:
                peaks.largest_process_bytes, peaks.largest_process = rss, job_name(command)
        if time.monotonic() - last_disk >= 1.0:
            last_disk = time.monotonic()
            peaks.checkpoint_bytes = max(peaks.checkpoint_bytes, tree_bytes(checkpoint_root))
            peaks.load_samples.append(os.getloadavg()[0])


# ------------------------------------------------------------------------------- the run
def snakemake_command(workdir: Path, prepared: dict) -> list[str]:
    return [
        str(Path(sys.executable).with_name("snakemake")),
        f"fold_{FOLD}",
        "--snakefile", str(REPO / "Snakefile"),
        "--directory", str(workdir),
        "--cores", str(CORES),
        "--resources", "gpu=0",
        "--configfile", str(PAPER_CONFIG),
        "--config",
        *config_settings(prepared),
        "train={'epochs': 1}",
        "device=cpu",
        "resources={'gpu': 0}",
        # paper.yaml's `auto` packs a local CPU run per fold; the rehearsal exercises the
        # cluster's packing, one job per evaluation.
        "evaluation={'jobs': 'per_evaluation'}",
    ]  # fmt: skip


def run_workflow(command: list[str], workdir: Path, log_path: Path) -> tuple[int, JobLog, Peaks]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    jobs, peaks, stop = JobLog(), Peaks(), threading.Event()
    started = time.monotonic()
    with open(log_path, "w", encoding="utf-8", buffering=1) as log:
        process = subprocess.Popen(
            command,
            cwd=workdir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,  # its own process group: stopped with all its jobs
        )
        sampler = threading.Thread(
            target=sample,
            args=(process.pid, workdir / "results" / "checkpoints", peaks, stop),
            daemon=True,
        )
        sampler.start()
        timer = threading.Timer(RUN_LIMIT_S, stop_group, args=(process,))
        timer.start()
        try:
            for line in process.stdout:
                log.write(line)
                rule = jobs.feed(line)
                if rule is not None:
                    elapsed = time.monotonic() - started
                    print(
                        f"[rehearsal {elapsed / 60:5.1f} min] {rule} done "
                        f"({jobs.finished[rule]}/{EXPECTED_JOBS.get(rule, '?')})",
                        flush=True,
                    )
            returncode = process.wait()
        finally:
            timer.cancel()
            stop_group(process)  # a no-op once it has ended; else (interrupted) its jobs too
            stop.set()
            sampler.join()
    if time.monotonic() - started >= RUN_LIMIT_S:
        print(f"rehearsal: stopped after {RUN_LIMIT_S / 60:.0f} min", file=sys.stderr)
    return returncode, jobs, peaks


def stop_group(process: subprocess.Popen) -> None:
    """Terminate Snakemake and its jobs (its process group), if it still runs."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


# ------------------------------------------------------------------------------ checks
def check_jobs(jobs: JobLog) -> list[str]:
    problems = []
    if dict(jobs.finished) != EXPECTED_JOBS:
        problems.append(
            f"jobs run per rule: {dict(sorted(jobs.finished.items()))}, expected "
            f"{dict(sorted(EXPECTED_JOBS.items()))}"
        )
    if jobs.beside_heavy:
        problems.append(
            f"a training or evaluation job ran beside {jobs.beside_heavy} other job(s) "
            f"({jobs.beside_heavy_example}); with --cores {CORES} each should have the machine"
        )
    return problems


def check_long_utterance(workdir: Path, utt_id: str) -> list[str]:
    """Ingested whole, in the fold's validation splits, in no training split."""
    folds = workdir / "results" / "data" / "folds" / FOLD
    iemocap = pd.read_csv(workdir / "results" / "data" / "iemocap.csv", dtype={"utt_id": str})
    problems = []
    duration = iemocap.loc[iemocap["utt_id"] == utt_id, "duration"]
    if duration.empty or not duration.iloc[0] > 30:
        problems.append(f"the long utterance {utt_id} was not ingested at over 30 s")
    for split in ("train_clean", "train_noisy", "valid_clean", "valid_noisy"):
        ids = set(pd.read_csv(folds / f"{split}.csv", dtype={"utt_id": str})["utt_id"])
        if (utt_id in ids) != split.startswith("valid"):
            problems.append(
                f"the long utterance {utt_id} is {'' if utt_id in ids else 'not '}in {split}"
            )
    return problems


def check_outputs(workdir: Path) -> list[str]:
    histories = sorted((workdir / "results" / "models").glob(f"*/{FOLD}/history.csv"))
    metrics = sorted((workdir / "results" / "eval").glob(f"*/{FOLD}/*/metrics.json"))
    problems = []
    if len(histories) != 6 or len(metrics) != 42:
        problems.append(
            f"{len(histories)} training histories and {len(metrics)} metrics files, expected 6 and 42"
        )
    for history in histories:
        epochs = len(pd.read_csv(history))
        if epochs != 1:
            problems.append(f"{history.relative_to(workdir)} has {epochs} epochs, expected 1")
    return problems


def gigabytes(count: int) -> str:
    return f"{count / 1e9:.1f} GB"


def print_figures(
    run_seconds: float, prepared_seconds: float, jobs: JobLog, peaks: Peaks, workdir: Path
) -> None:
    print(f"\nrehearsal figures (config/paper.yaml, fold {FOLD}, {CORES} cores, CPU, one epoch)")
    print(
        f"  wall time            {run_seconds / 60:.1f} min for the workflow, after "
        f"{prepared_seconds / 60:.1f} min writing the corpora and models"
    )
    print(
        f"  jobs                 {sum(jobs.finished.values())}: "
        + ", ".join(f"{rule} {count}" for rule, count in sorted(jobs.finished.items()))
    )
    for rule in sorted(jobs.seconds, key=jobs.seconds.get, reverse=True):
        each = jobs.seconds[rule] / max(jobs.finished[rule], 1)
        print(f"    {rule:20} {jobs.seconds[rule] / 60:5.1f} min in all, {each:4.0f} s a job")
    print(
        f"  peak memory          {gigabytes(peaks.memory_bytes)} resident, Snakemake and its "
        f"jobs summed (largest process {gigabytes(peaks.largest_process_bytes)}: "
        f"{peaks.largest_process})"
    )
    print(f"  peak checkpoint disk {gigabytes(peaks.checkpoint_bytes)} in results/checkpoints")
    print(
        f"  model folders        {gigabytes(tree_bytes(workdir / 'results' / 'models'))} "
        "in results/models"
    )
    print(
        f"  concurrency          at most {jobs.beside_heavy} other job(s) beside a training "
        "or evaluation job"
    )
    if peaks.load_samples:
        mean = sum(peaks.load_samples) / len(peaks.load_samples)
        print(
            f"  machine load         {mean:.1f} on average (1-minute load average; the run "
            f"itself keeps {CORES} cores busy)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, help="run here (default: a new temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the working folder afterwards")
    args = parser.parse_args()

    base = args.workdir or Path(tempfile.mkdtemp(prefix="asrser-rehearsal-"))
    base.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(base).free
    if free < NEEDED_DISK_GB * 1e9:
        raise SystemExit(
            f"rehearsal: {gigabytes(free)} free in {base}, {NEEDED_DISK_GB} GB needed (set TMPDIR "
            "or --workdir to a larger disk)"
        )
    started = time.monotonic()
    passed = False
    try:
        print(f"rehearsal: config/paper.yaml, fold {FOLD}, in {base}", flush=True)
        prepared = prepare(base, FOLD)
        durations = prepared["durations"]
        print(
            f"rehearsal: IEMOCAP-format corpus of {prepared['utterances']} utterances "
            f"({prepared['audio_seconds'] / 60:.1f} min), the longest {prepared['long_utterance']} "
            f"({max(durations.values()):.0f} s, validated in fold {FOLD}); the paper's models "
            "at full size with random weights",
            flush=True,
        )
        prepared_seconds = time.monotonic() - started
        workdir = base / "run"
        workdir.mkdir(exist_ok=True)
        command = snakemake_command(workdir, prepared)
        print("rehearsal: " + " ".join(command), flush=True)
        run_started = time.monotonic()
        returncode, jobs, peaks = run_workflow(command, workdir, base / "snakemake.log")
        run_seconds = time.monotonic() - run_started

        problems = []
        if returncode != 0:
            with open(base / "snakemake.log", encoding="utf-8") as log:
                print("".join(log.readlines()[-60:]), file=sys.stderr)
            problems.append(f"snakemake exited with status {returncode} ({base / 'snakemake.log'})")
        problems += check_jobs(jobs)
        if returncode == 0:
            problems += check_outputs(workdir)
            problems += check_long_utterance(workdir, prepared["long_utterance"])
        print_figures(run_seconds, prepared_seconds, jobs, peaks, workdir)
        if problems:
            raise SystemExit("rehearsal FAILED:\n  " + "\n  ".join(problems))
        passed = True
        print(f"rehearsal passed in {(time.monotonic() - started) / 60:.1f} min")
    finally:
        if passed and not args.keep and args.workdir is None:
            shutil.rmtree(base, ignore_errors=True)
        elif not passed:
            print(f"rehearsal: working folder kept in {base}", file=sys.stderr)


if __name__ == "__main__":
    main()
