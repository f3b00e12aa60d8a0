"""Disk and memory of a training job at the paper's size: checkpoint files, model folders, and
the peak memory of a training step on IEMOCAP's longest utterances.

The paper's architectures with random weights (asrser.models.paper_architecture: wav2vec2-large-
lv60 and bert-base; file sizes and memory do not depend on the weights), trained as
config/paper.yaml trains them (its train settings per model type, encoder overrides included).
Each model type runs in a fresh subprocess, so that its peak memory is its own:

  1. training steps of the trainer on one utterance each, shortest first: a warm-up step (AdamW
     creates its moments at the first step), then each --seconds length; after each, the
     process's peak resident memory (CPU, fp32) or torch.cuda.max_memory_allocated (CUDA, bf16);
  2. a resume point whose weights are the best epoch's (asrser.training.checkpoint), then one
     whose best epoch is an older one; the model folder (save_model).

The measured files are printed beside asrser.runtime.disk's figures from the parameter counts. Not a test.

    .venv/bin/python benchmarks/bench_paper_size.py                  # the paper's size, CPU
    .venv/bin/python benchmarks/bench_paper_size.py --device cuda    # on a GPU, bf16 autocast
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_training import speech_like  # noqa: E402

from asrser import EMOTIONS, MODEL_TYPES  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
GB = 1e9
# Shrunk architectures for a quick check that the benchmark runs (tests/test_benchmarks.py).
TINY = {
    "encoder": dict(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64
    ),
    "bert": dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64),
}


def rss_peak_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: kB


def rss_now_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def write_utterances(folder: Path, seconds: list[float]) -> Path:
    import pandas as pd

    from asrser.data.audio import write_audio

    rng = np.random.default_rng(0)
    rows = []
    for index, length in enumerate(seconds):
        path = folder / f"utt{index}.wav"
        write_audio(path, speech_like(rng, length))
        words = " ".join(["WHAT", "DO", "YOU", "MEAN"] * max(1, int(length * 2.5 / 4)))
        rows.append(
            dict(
                utt_id=f"utt{index}",
                audio_path=str(path),
                transcript=words,
                emotion=EMOTIONS[index % len(EMOTIONS)],
                duration=length,
            )
        )
    manifest = folder / "manifest.csv"
    pd.DataFrame(rows).to_csv(manifest, index=False)
    return manifest


def paper_train_config(model: str):
    """config/paper.yaml's training settings for `model` (over config/config.yaml, as Snakemake
    merges them), validated."""
    from snakemake.utils import update_config

    from asrser.common.config import load_yaml
    from asrser.training.settings import train_settings

    merged = load_yaml(REPO / "config" / "config.yaml")
    update_config(merged, load_yaml(REPO / "config" / "paper.yaml"))
    return train_settings(merged["train"], model), merged


def moment_count(optimizer) -> int:
    return sum(p.numel() for p in optimizer.state)


def measure(args) -> dict:
    """One model type in this process (see the module doc)."""
    import torch
    from transformers.utils import logging as transformers_logging

    from asrser.models.model_io import build_model, save_model
    from asrser.runtime.device import resolve_device
    from asrser.runtime.disk import folder_bytes
    from asrser.training.train import load_split
    from asrser.training.trainer import Trainer

    transformers_logging.disable_progress_bar()
    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    config, merged = paper_train_config(args.model)
    split = load_split(args.manifest, args.model, None, cache=True, name="bench")
    torch.manual_seed(0)
    hparams = {"ctc_head": config.ctc_head} if args.model != "ser" else {}
    model, processor = build_model(
        args.model,
        args.encoder,
        args.bert if args.model == "joint" else None,
        encoder_overrides=dict(config.encoder_overrides),
        bert_finetune=bool(merged["bert"]["finetune"]) if args.model == "joint" else False,
        **hparams,
    )
    result = {
        "model": args.model,
        "layers": model.config.encoder_config.num_hidden_layers,
        "augment": config.augment.enabled,
        "steps": [],
    }
    scratch = Path(args.scratch)
    checkpoints = scratch / f"checkpoints_{args.model}_{result['layers']}"
    trainer = Trainer(model, processor, split, split, config, checkpoints, device, "bench")
    result["rss_model_bytes"] = rss_now_bytes()
    for index, utterance in enumerate(split.utterances):  # shortest first (the manifest's order)
        if device.type == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        started = time.perf_counter()
        trainer.train_step([index])
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - started
        peak = torch.cuda.max_memory_allocated() if device.type == "cuda" else rss_peak_bytes()
        result["steps"].append(
            {"seconds": utterance.duration, "step_s": seconds, "peak_bytes": peak}
        )
    if trainer.progress.epoch_totals["skipped"]:
        raise SystemExit(f"{args.model}: a non-finite step; the figures would not be a step's")
    if not args.disk:
        return result

    # AdamW creates a parameter's moments at its first gradient; LayerDrop (0.1 per layer in
    # lv60's config) skips whole layers in a step. More short steps until every trained
    # parameter has its moments, as after an epoch.
    trained = sum(p.numel() for group in model.parameter_groups().values() for p in group)
    extra = 0
    while moment_count(trainer.optimizer) < trained - 2**16 and extra < 10:
        trainer.train_step([0])
        extra += 1
    result["moments"], result["trained"], result["extra_steps"] = (
        moment_count(trainer.optimizer),
        trained,
        extra,
    )

    def files() -> dict[str, int]:
        return {p.name: p.stat().st_size for p in sorted(checkpoints.iterdir())}

    trainer._save(best=True)  # an epoch whose weights are the best epoch's
    result["best_is_latest"] = files()
    trainer._save(best=False)  # then a resume point after it, the best epoch an older one
    result["best_is_older"] = files()
    saved = save_model(model, processor, scratch / f"model_{args.model}")
    result["model_folder_bytes"] = folder_bytes(saved)
    return result


def gb(value: float) -> str:
    return f"{value / GB:.2f}"


def run_child(model: str, manifest: Path, encoder: Path, bert: Path, args, scratch, disk: bool):
    child = [
        sys.executable, __file__, "--model", model, "--manifest", str(manifest),
        "--encoder", str(encoder), "--bert", str(bert), "--device", args.device,
        "--threads", str(args.threads), "--scratch", str(scratch),
    ]  # fmt: skip
    if disk:
        child.append("--disk")
    done = subprocess.run(child, capture_output=True, text=True)
    if done.returncode:
        print(done.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"{model}: benchmark failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def peak_at(result: dict, seconds: float) -> float:
    return next(step["peak_bytes"] for step in result["steps"] if step["seconds"] == seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODEL_TYPES), choices=MODEL_TYPES)
    parser.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--seconds",
        nargs="+",
        type=float,
        default=[20.0, 34.0],
        help="utterance lengths, a training step each after a 2-s warm-up step, at the paper's "
        "size (IEMOCAP's longest IEM4 utterances last about 34 s)",
    )
    parser.add_argument(
        "--extrapolate",
        nargs=2,
        type=int,
        metavar=("DEPTH1", "DEPTH2"),
        help="also measure --extrapolate-seconds with encoders of these depths (transformer "
        "layers) and extrapolate linearly to 24, for lengths whose step does not fit this "
        "machine's memory at full depth (activations grow by layer)",
    )
    parser.add_argument("--extrapolate-seconds", nargs="+", type=float, default=[20.0, 34.0])
    parser.add_argument(
        "--tiny", action="store_true", help="shrunk architectures (checks that this runs)"
    )
    # Internal: one model type in a child process.
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--manifest", help=argparse.SUPPRESS)
    parser.add_argument("--encoder", help=argparse.SUPPRESS)
    parser.add_argument("--bert", help=argparse.SUPPRESS)
    parser.add_argument("--scratch", help=argparse.SUPPRESS)
    parser.add_argument("--disk", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.model:
        print(json.dumps(measure(args)))
        return

    from asrser.models.paper_architecture import create_paper_bert, create_paper_encoder
    from asrser.runtime.disk import folder_bytes, training_sizes

    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        started = time.perf_counter()
        shrink = TINY["encoder"] if args.tiny else {}
        depth = shrink.get("num_hidden_layers", 24)
        encoder = create_paper_encoder(scratch / "encoder", **shrink)
        bert = create_paper_bert(scratch / "bert", **(TINY["bert"] if args.tiny else {}))
        lengths = [2.0, *sorted(args.seconds)]
        (scratch / "main").mkdir()
        manifest = write_utterances(scratch / "main", lengths)
        config, merged = paper_train_config("asr")
        size = "shrunk (--tiny)" if args.tiny else "the paper's size"
        print(
            f"wav2vec2-large-lv60 and bert-base architectures at {size}, random weights; "
            "config/paper.yaml training settings (encoder_overrides "
            f"{dict(config.encoder_overrides)}, bert.finetune {merged['bert']['finetune']}); "
            f"device {args.device}, {args.threads} threads"
        )
        print(
            f"start models as fetched: encoder folder {gb(folder_bytes(encoder))} GB, "
            f"BERT folder {gb(folder_bytes(bert))} GB"
        )
        predicted = training_sizes(str(encoder), str(bert), bool(merged["bert"]["finetune"]))
        results = {
            model: run_child(model, manifest, encoder, bert, args, scratch, disk=True)
            for model in args.models
        }

        print("\nDisk per training job (GB; pred.: asrser.runtime.disk from the parameter counts)")
        print(
            f"{'model':6} {'params M':>9} {'trained M':>9} {'weights':>8} {'pred.':>6} "
            f"{'resume.pt':>9} {'pred.':>6} {'job, best=latest':>16} {'job, best older':>15} "
            f"{'peak pred.':>10} {'model folder':>12}"
        )
        for model, r in results.items():
            p = predicted[model]
            latest, older = r["best_is_latest"], r["best_is_older"]
            weights = max(v for k, v in latest.items() if k.startswith("weights-"))
            print(
                f"{model:6} {p.parameters / 1e6:9.1f} {p.trainable / 1e6:9.1f} {gb(weights):>8} "
                f"{gb(p.weights_bytes):>6} {gb(latest['resume.pt']):>9} "
                f"{gb(p.optimizer_bytes):>6} {gb(sum(latest.values())):>16} "
                f"{gb(sum(older.values())):>15} {gb(p.peak_checkpoint_bytes):>10} "
                f"{gb(r['model_folder_bytes']):>12}"
            )
        print(
            "weights = 4 B x parameters (float32; a frozen BERT is not saved); resume.pt = "
            "AdamW's two float32 moments, 8 B x trained parameters (the convolutions stay frozen; "
            "the SER baseline's CTC layer is unused; measured once every trained parameter had "
            "its moments: "
            + ", ".join(f"{t} after {r['extra_steps']} more 2-s steps" for t, r in results.items())
            + "); job = the checkpoint folder's files (one weights file when the best epoch is "
            "the latest, two otherwise); peak = while saving (3 weights + 2 resume.pt, the best "
            "epoch an older one); model folder = results/models/<model>-<train>/<fold>/model."
        )
        unit = "max CUDA memory allocated" if args.device == "cuda" else "peak RSS, fp32"
        print(f"\nTraining step on one utterance, {depth} layers ({unit}, GB; step time in s)")
        header = " ".join(f"{s:>5.0f} s{'':>9}" for s in lengths)
        print(f"{'model':6} {'before steps':>12} {header}")
        for model, r in results.items():
            steps = " ".join(
                f"{gb(step['peak_bytes']):>6} ({step['step_s']:5.1f})" for step in r["steps"]
            )
            print(f"{model:6} {gb(r['rss_model_bytes']):>12} {steps}")

        if args.extrapolate:
            extra_lengths = [2.0, *sorted(args.extrapolate_seconds)]
            (scratch / "extra").mkdir()
            extra_manifest = write_utterances(scratch / "extra", extra_lengths)
            measured = {}
            for layers in args.extrapolate:
                shallow = create_paper_encoder(
                    scratch / f"encoder{layers}", **{**shrink, "num_hidden_layers": layers}
                )
                for model in args.models:
                    measured[model, layers] = run_child(
                        model, extra_manifest, shallow, bert, args, scratch, disk=False
                    )
                shutil.rmtree(shallow)
            low, high = sorted(args.extrapolate)
            print(
                f"\nExtrapolated to {depth} layers from {low} and {high} ({unit}, GB; in "
                f"brackets the {depth}-layer measurement where the table above has it)"
            )
            print(
                f"{'model':6} "
                + " ".join(
                    f"{s:>5.0f} s: {low:>2}, {high:>2} -> {depth}{'':>9}" for s in extra_lengths[1:]
                )
            )
            for model in args.models:
                cells = []
                for length in extra_lengths[1:]:
                    a = peak_at(measured[model, low], length)
                    b = peak_at(measured[model, high], length)
                    full = b + (b - a) / (high - low) * (depth - high)
                    check = results[model]["steps"]
                    found = [s["peak_bytes"] for s in check if s["seconds"] == length]
                    cells.append(
                        f"{gb(a):>5}, {gb(b):>5} -> {gb(full):>5}"
                        + (f" ({gb(found[0])})" if found else f"{'':>7}")
                    )
                print(f"{model:6} " + " ".join(cells))

        print(
            "Steps run shortest first, each a batch of its own as under the paper config's "
            "max_batch_seconds; peak memory only grows, so each figure is the peak of the "
            "longest utterance so far (the first step also creates AdamW's moments). "
            "Augmentation as the paper config ("
            + (", ".join(t for t, r in results.items() if r["augment"]) or "none")
            + ": speeds 95-105 %, so an utterance may run up to 5 % longer). "
            f"{time.perf_counter() - started:.0f} s in all."
        )


if __name__ == "__main__":
    main()
