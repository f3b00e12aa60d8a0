"""What noticing corpus edits costs at plan time: the corpus stamps on corpora of the real sizes.

Snakemake computes asrser.data.corpus_stamp's stamp of each real corpus when it plans a run in
a working directory whose ingestion has run (a parameter of ingest_iemocap and ingest_musan):
one directory listing per folder and one stat per file ingestion reads. This builds, under the
temporary folder, an IEMOCAP-format corpus of the release's size (--utterances wavs in
--dialogs dialogs, a label and a transcription file per dialog, and --unread files per
utterance in folders ingestion never opens, as the release's motion capture and alignments)
and a MUSAN-format one (--musan-files wavs), then prints the files each stamp covers and its
time (median of --repeats, warm file-system cache; a cold cache on a network file system
costs more, one round trip per stat), and the one-time import of the stamp's modules in a
fresh interpreter. Not a test; under a minute with the defaults on an idle machine.

    .venv/bin/python benchmarks/bench_corpus_stamp.py [--utterances 10039] [--dialogs 151]
        [--unread 3] [--musan-files 2016] [--repeats 7]
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from asrser.data.corpus_stamp import iemocap_stamp, musan_stamp

ROOT = Path(__file__).resolve().parents[1]
SESSIONS = 5
MUSAN_FILES = {"music": 660, "speech": 426, "noise": 930}  # the release's wavs per type


def _wav_bytes(seconds: float = 0.1) -> bytes:
    """One short wav's bytes, written again for each file (a byte write, not an encode)."""
    buffer = io.BytesIO()
    sf.write(buffer, np.zeros(int(seconds * 16000), dtype=np.int16), 16000, format="WAV")
    return buffer.getvalue()


def make_iemocap(root: Path, utterances: int, dialogs: int, unread: int) -> None:
    """Session1..5 with `dialogs` dialogs holding `utterances` wavs, their label and
    transcription lines, and `unread` files per utterance where ingestion never looks."""
    wav = _wav_bytes()
    for dialog_index, members in enumerate(np.array_split(np.arange(utterances), dialogs)):
        session = dialog_index * SESSIONS // dialogs + 1
        dialog = f"Ses{session:02d}F_impro{dialog_index:03d}"
        folder = root / f"Session{session}"
        ids = [f"{dialog}_{'FM'[k % 2]}{k:03d}" for k in range(len(members))]
        for sub in ("dialog/EmoEvaluation", "dialog/transcriptions", f"sentences/wav/{dialog}"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        (folder / "dialog" / "EmoEvaluation" / f"{dialog}.txt").write_text(
            "".join(f"[1.0000 - 1.1000]\t{i}\tneu\t[2.5000, 2.5000, 2.5000]\n" for i in ids)
        )
        (folder / "dialog" / "transcriptions" / f"{dialog}.txt").write_text(
            "".join(f"{i} [001.0000-001.1000]: Hello there.\n" for i in ids)
        )
        for utt_id in ids:
            (folder / "sentences" / "wav" / dialog / f"{utt_id}.wav").write_bytes(wav)
        for kind in range(unread):
            other = folder / "sentences" / f"MOCAP_{kind}" / dialog
            other.mkdir(parents=True, exist_ok=True)
            for utt_id in ids:
                (other / f"{utt_id}.txt").write_bytes(b"0 0 0\n")


def make_musan(root: Path, files: int) -> None:
    wav = _wav_bytes()
    for kind, count in MUSAN_FILES.items():
        folder = root / kind / f"{kind}-subset"
        folder.mkdir(parents=True)
        for number in range(max(2, round(count * files / sum(MUSAN_FILES.values())))):
            (folder / f"{kind}-{number:04d}.wav").write_bytes(wav)


def timed(stamp, root: Path, repeats: int) -> tuple[str, float]:
    """The stamp and its median time in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        value = stamp(root)
        times.append(time.perf_counter() - start)
    return value, statistics.median(times)


def import_seconds(before: str = "") -> float:
    """The stamp's modules imported in a fresh interpreter (paid once per plan), after the
    imports `before`."""
    code = (
        f"{before}\nimport time; t = time.perf_counter(); import asrser.data.corpus_stamp; "
        "print(time.perf_counter() - t)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return float(result.stdout)


def plan_seconds(workdir: Path) -> float:
    """A dry run of the embedded default's whole study in an empty working directory, for
    scale (the synthetic corpus gets no stamp: it is a workflow output)."""
    snakemake = Path(sys.executable).with_name("snakemake")
    start = time.perf_counter()
    subprocess.run(
        [str(snakemake), "-n", "--quiet", "--snakefile", str(ROOT / "Snakefile")],
        cwd=workdir,
        capture_output=True,
        check=True,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--utterances", type=int, default=10039, help="IEMOCAP's sentence wavs")
    parser.add_argument("--dialogs", type=int, default=151, help="IEMOCAP's dialogs")
    parser.add_argument("--unread", type=int, default=3, help="unread files per utterance")
    parser.add_argument("--musan-files", type=int, default=2016, help="MUSAN's wavs")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--no-plan", action="store_true", help="skip the dry run of the study (for scale)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_corpus_stamp_") as folder:
        iemocap, musan = Path(folder) / "IEMOCAP_full_release", Path(folder) / "musan"
        start = time.perf_counter()
        make_iemocap(iemocap, args.utterances, args.dialogs, args.unread)
        make_musan(musan, args.musan_files)
        built = time.perf_counter() - start
        total = sum(1 for path in Path(folder).rglob("*") if path.is_file())
        print(f"corpora built in {built:.1f} s under {folder}: {total} files in all")
        for name, stamp, root in (
            ("IEMOCAP", iemocap_stamp, iemocap),
            ("MUSAN", musan_stamp, musan),
        ):
            value, seconds = timed(stamp, root, args.repeats)
            files = int(value.split()[0])
            print(
                f"{name} stamp: {files} files read by ingestion, {seconds * 1000:.1f} ms "
                f"(median of {args.repeats}, warm cache), {seconds / files * 1e6:.1f} us per file"
            )
        print(
            f"import of asrser.data.corpus_stamp in a fresh interpreter: {import_seconds():.2f} "
            f"s; {import_seconds('import pandas'):.2f} s after pandas, which Snakemake's "
            "params check imports anyway"
        )
        if not args.no_plan:
            workdir = Path(folder) / "work"
            workdir.mkdir()
            print(f"for scale, a dry run of the whole study: {plan_seconds(workdir):.1f} s")


if __name__ == "__main__":
    main()
