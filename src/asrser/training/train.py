"""Fine-tuning: one model (asr, ser or joint) on one fold's training split, validated each epoch.

AdamW with separate learning rates for the pretrained encoder and the new heads (linear warm-up,
then linear decay), gradient clipping, bf16 autocast on CUDA (fp32 on the CPU), duration-bucketed
batches (asrser.data.batching), time-domain SpecAugment (asrser.training.augment), the best epoch kept by the
validation score:

    asr    score = -WER
    ser    score = accuracy
    joint  score = accuracy - WER  (both tasks count equally: the same order as the mean of
                                    accuracy and 1 - WER)

with ties going to the lower validation loss. With `head_warmup_steps` > 0 the SER and joint
models first fit their emotion heads on the start encoder's embeddings (asrser.training.head_warmup). The
settings are asrser.training.settings.TrainConfig; batches are collated (and kept, or collated ahead
in worker processes) by asrser.data.collation.

Determinism and resuming. All randomness of optimizer step s of epoch e (dropout, the encoder's
time masking, augmentation) is drawn from generators seeded with (seed, e, s) right before the
step, and the batches of epoch e depend on (seed, e) only. A checkpoint therefore needs just the
weights, the optimizer, the position and the bookkeeping (asrser.training.checkpoint, in
`checkpoint_dir`: each set of weights stored once, every file read without running code). One is
written after every epoch and, on SIGTERM (Slurm's time limit), at the next batch boundary before
exiting with status 143; a rerun continues from it and ends with the same weights as an
uninterrupted run (same device and thread count; on CUDA only up to the CTC loss's backward, which PyTorch documents
as not deterministic there, so the ASR and joint models' weights may differ slightly). After a
SIGKILL the rerun restarts the unfinished epoch from the last epoch checkpoint. A checkpoint
written by different settings, data, or encoder or BERT weights is discarded, with a log line.
Checkpoints are deleted only once the final outputs exist. (Under a wall-clock budget,
`max_minutes`, where training stops and the schedule stands depend on the machine; a step budget,
`max_steps`, keeps runs reproducible.)

Non-finite losses or gradients: the batch is skipped and counted; training stops with
NonFiniteLossError after `max_nonfinite_in_row` consecutive ones or when more than
`max_nonfinite_fraction` of an epoch's batches were skipped.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import random
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import Tensor
from tqdm import tqdm

from asrser import MODEL_TYPES
from asrser.common.config import UNUSED_TRAIN_KEYS, model_hparams
from asrser.common.fingerprint import model_identity
from asrser.common.io import save_figure, write_csv
from asrser.common.provenance import PROVENANCE_FILE, training_provenance
from asrser.common.text import normalize_transcript
from asrser.data.batching import (
    EMOTION_TASKS,
    TEXT_TASKS,
    AudioStore,
    DurationBatchSampler,
    group_by_duration,
    load_utterances,
)
from asrser.data.collation import BatchPrefetcher, Split, make_batch, padded_fraction
from asrser.evaluation.metrics import pooled_wer
from asrser.models.heads import GlobalNormalization
from asrser.runtime.device import autocast, resolve_device, set_cpu_threads
from asrser.training.augment import Augmenter
from asrser.training.checkpoint import CheckpointFolder, ResumePoint, set_random_states
from asrser.training.head_warmup import collect_emotion_inputs, warm_up_heads
from asrser.training.optim import decay_groups
from asrser.training.settings import TrainConfig, TrainingError

log = logging.getLogger(__name__)

SIGTERM_EXIT_STATUS = 143  # 128 + SIGTERM, what a shell reports for a process ended by SIGTERM
HISTORY_COLUMNS = (
    "epoch",
    "steps",
    "train_loss",
    "ctc_loss",
    "ser_loss",
    "valid_loss",
    "valid_wer",
    "valid_acc",
    "valid_score",
    "is_best",
    "lr_encoder",
    "lr_heads",
    "seconds",
    "audio_seconds_per_second",
    "skipped_batches",
    "padding_waste",
)


class NonFiniteLossError(TrainingError):
    """Too many batches with a NaN/inf loss or gradient."""


# ------------------------------------------------------------------------------------ helpers
def _step_seeds(seed: int, epoch: int, step: int) -> tuple[int, int]:
    """(global seed, augmentation seed) of one optimizer step; see the module doc."""
    state = np.random.SeedSequence([seed, epoch, step]).generate_state(2)
    return int(state[0]), int(state[1])


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _file_digest(path: str | Path) -> str:
    return hashlib.sha1(Path(path).read_bytes()).hexdigest()


def lr_factor(progress: float, warmup_fraction: float, final_fraction: float) -> float:
    """Linear warm-up to 1 over the first `warmup_fraction` of training, then linear decay to
    `final_fraction` at the end (progress in [0, 1])."""
    progress = min(max(progress, 0.0), 1.0)
    if warmup_fraction > 0 and progress < warmup_fraction:
        return progress / warmup_fraction
    span = 1.0 - warmup_fraction
    remaining = (1.0 - progress) / span if span > 0 else 0.0
    return final_fraction + (1.0 - final_fraction) * remaining


class StopRequest:
    """Turns SIGTERM into a flag checked at batch boundaries (installed in the main thread only)."""

    def __init__(self):
        self.requested = False

    @contextlib.contextmanager
    def installed(self) -> Iterator[StopRequest]:
        if threading.current_thread() is not threading.main_thread():
            yield self
            return

        def handler(signum, frame):
            log.warning("SIGTERM received: saving a resume point at the next batch boundary")
            self.requested = True

        previous = signal.signal(signal.SIGTERM, handler)
        try:
            yield self
        finally:
            signal.signal(signal.SIGTERM, previous)


# ---------------------------------------------------------------------------------- validation
@torch.no_grad()
def validate(model, processor, split: Split, task: str, device, max_batch_seconds: float) -> dict:
    """Validation loss, WER (asr, joint), accuracy (ser, joint) and the selection score."""
    was_training = model.training
    model.eval()
    order = np.argsort(split.durations, kind="stable")
    batches = group_by_duration(split.durations, order, max_batch_seconds)
    references, hypotheses = [], []
    correct = total = 0
    loss_sum = 0.0
    try:
        for indices in batches:
            batch = make_batch(split, indices, processor, task).to(device)
            with autocast(device):
                out = model(batch, decode=True)
            loss_sum += float(out.loss) * len(batch)
            if task in TEXT_TASKS:
                references += batch.transcripts
                hypotheses += out.hypotheses
            if task in EMOTION_TASKS:
                predicted = out.emotion_logits.float().argmax(-1)
                correct += int((predicted == batch.emotions).sum())
                total += len(batch)
    finally:
        model.train(was_training)
    wer = pooled_wer(references, hypotheses) if task in TEXT_TASKS else math.nan
    accuracy = correct / total if task in EMOTION_TASKS else math.nan
    score = {"asr": -wer, "ser": accuracy, "joint": accuracy - wer}[task]
    return {
        "valid_loss": loss_sum / len(split.utterances),
        "valid_wer": wer,
        "valid_acc": accuracy,
        "valid_score": score,
    }


def running_statistics(model: torch.nn.Module) -> list[Tensor]:
    """The buffers a training forward updates: the heads' input normalisations and any batch
    norm's running mean and variance."""
    updated = (GlobalNormalization, torch.nn.modules.batchnorm._BatchNorm)
    return [
        buffer
        for module in model.modules()
        if isinstance(module, updated)
        for buffer in module.buffers(recurse=False)
    ]


# --------------------------------------------------------------------------------- checkpoints
@dataclass
class Progress:
    """Where training stands; saved in resume.pt."""

    epoch: int = 0  # current (unfinished) epoch
    step: int = 0  # next batch of that epoch
    global_step: int = 0  # optimizer steps taken (skipped batches do not count)
    batches_done: int = 0  # batches consumed (for the schedule)
    elapsed_s: float = 0.0  # training wall time over all sessions
    best_score: float = -math.inf
    best_loss: float = math.inf  # validation loss of the best epoch (breaks score ties)
    best_epoch: int = -1
    nonfinite_in_row: int = 0  # consecutive skipped batches (kept across a resume)
    finished: bool = False
    history: list[dict] = field(default_factory=list)
    epoch_totals: dict = field(default_factory=dict)  # running sums of the unfinished epoch


def _group_sizes(optimizer_state) -> list[int] | None:
    """Parameters per group of an optimizer state dict; None when it is not one."""
    groups = optimizer_state.get("param_groups") if isinstance(optimizer_state, dict) else None
    if not isinstance(groups, list) or not all(isinstance(group, dict) for group in groups):
        return None
    return [len(group.get("params", ())) for group in groups]


# ---------------------------------------------------------------------------------------- fit
@dataclass
class FitResult:
    history: pd.DataFrame
    best_epoch: int
    best_score: float
    resumed_from: tuple[int, int] | None  # (epoch, batch) of the checkpoint resumed, if any
    seconds: float  # training wall time over all sessions


def make_optimizer(model, config: TrainConfig) -> torch.optim.AdamW:
    """AdamW over model.parameter_groups(): encoder and heads at their own learning rates;
    weight decay on weight matrices only (not on biases and norms)."""
    groups = []
    for name, params in model.parameter_groups().items():
        lr = config.lr_encoder if name == "encoder" else config.lr_heads
        for suffix, members, decay in decay_groups(params, config.weight_decay):
            groups.append(
                dict(params=members, lr=lr, initial_lr=lr, weight_decay=decay, name=name + suffix)
            )
    if not groups:
        raise TrainingError("the model has no trainable parameters")
    # The fused kernel: on the CPU the per-tensor loop took ~6 ms a step of the demo encoder's
    # ~90, the fused one ~1.4 (CUDA has one too).
    return torch.optim.AdamW(groups, fused=True)


def _epoch_totals() -> dict:
    names = ("loss", "ctc_loss", "ser_loss", "steps", "skipped", "padded", "real", "audio_s")
    return dict.fromkeys((*names, "seconds"), 0.0)


class Trainer:
    """The training loop of `fit` (one instance per run)."""

    def __init__(
        self,
        model,
        processor,
        train_split: Split,
        valid_split: Split,
        config: TrainConfig,
        checkpoint_dir: str | Path,
        device: torch.device,
        fingerprint: str,
        on_step: Callable[[int, int], None] | None = None,
    ):
        self.model, self.processor, self.config = model, processor, config
        self.train_split, self.valid_split = train_split, valid_split
        self.device, self.fingerprint, self.on_step = device, fingerprint, on_step
        self.task = model.task
        checkpoint_dir = Path(checkpoint_dir)
        checkpoint_dir.mkdir(parents=True, exist_ok=True)
        self.checkpoints = CheckpointFolder(checkpoint_dir, fingerprint)
        self.resume_path = self.checkpoints.resume_path
        self.augmenter = Augmenter(config.augment) if config.augment.enabled else None
        sampler = DurationBatchSampler(
            train_split.durations,
            config.max_batch_seconds,
            seed=config.seed,
            length_factor=config.augment.max_length_factor,
            # Without augmentation the same batches recur (only their order changes), so that
            # their collated features can be reused.
            sort_resolution_seconds=0.1 if self.augmenter is not None else 0.0,
        )
        if sampler.oversized:
            log.warning(
                "%d training utterance(s) exceed max_batch_seconds=%s (after augmentation): "
                "each gets a batch of its own",
                sampler.oversized,
                config.max_batch_seconds,
            )
        self.sampler = sampler
        # The schedule's length: epochs x batches per epoch (which varies by a batch or so
        # between epochs when tie-breaks are random: close enough, and still deterministic).
        total = len(sampler.batches(0)) * config.epochs
        self.total_batches = min(total, config.max_steps or total)
        self.budget_s = config.max_minutes * 60.0 if config.max_minutes is not None else None
        model.to(device)
        model.train()
        self.optimizer = make_optimizer(model, config)
        self.progress = Progress()
        # Running statistics that a training forward updates: a skipped batch must leave no
        # trace in them either (one NaN embedding would otherwise poison every later batch).
        self.running_statistics = running_statistics(model)

    # ------------------------------------------------------------------------- checkpoints
    def _restore(self) -> tuple[int, int] | None:
        loaded = self.checkpoints.load()
        if loaded is not None and not self._fits(loaded[0]):
            loaded = None
        if loaded is None:  # nothing to resume, or a stale or foreign run's files: start clean
            self.checkpoints.clear()
            return None
        point, random_states = loaded
        self.model.load_checkpoint_state_dict(point.model_state)
        self.optimizer.load_state_dict(point.optimizer_state)
        self.progress = Progress(**point.progress)
        set_random_states(random_states)
        position = (self.progress.epoch, self.progress.step)
        log.info(
            "resuming from %s: epoch %d, batch %d", self.resume_path, position[0] + 1, position[1]
        )
        return position

    def _fits(self, point: ResumePoint) -> bool:
        """The resume point's weights, optimizer groups and progress have this run's names and
        shapes (checked before anything is loaded: a partial load would leave the model half
        replaced)."""
        own = self.model.checkpoint_state_dict()
        state = point.model_state
        fits = state.keys() == own.keys() and all(state[key].shape == own[key].shape for key in own)
        own_groups = [len(group["params"]) for group in self.optimizer.param_groups]
        fits = fits and _group_sizes(point.optimizer_state) == own_groups
        fits = fits and set(point.progress) == {f.name for f in fields(Progress)}
        if not fits:
            log.warning("checkpoint %s does not fit this model: starting afresh", self.resume_path)
        return fits

    def _save(self, best: bool = False) -> None:
        """A resume point; `best`: its weights are the best epoch's too (stored once)."""
        self.checkpoints.save(
            asdict(self.progress),
            self.model.checkpoint_state_dict(),
            self.optimizer.state_dict(),
            best=best,
        )

    # -------------------------------------------------------------------------------- loop
    def run(self) -> FitResult:
        resumed_from = self._restore()
        if resumed_from is None and self.config.head_warmup_steps and self.task in EMOTION_TASKS:
            self._warm_up_heads()
        stop = StopRequest()
        with stop.installed():
            while not self.progress.finished:
                self._run_epoch(stop)
        best = self.checkpoints.best_weights()
        if best is not None:
            self.model.load_checkpoint_state_dict(best)
        self.model.eval()
        progress = self.progress
        log.info(
            "kept epoch %d (validation score %.4f); %.1f s of training in all",
            progress.best_epoch,
            progress.best_score,
            progress.elapsed_s,
        )
        return FitResult(
            history=pd.DataFrame(progress.history, columns=list(HISTORY_COLUMNS)),
            best_epoch=progress.best_epoch,
            best_score=progress.best_score,
            resumed_from=resumed_from,
            seconds=progress.elapsed_s,
        )

    def _warm_up_heads(self) -> None:
        """Fit the emotion heads on the start encoder's embeddings (asrser.training.head_warmup). Runs
        before the first checkpoint and is seeded, so a run killed here redoes it identically."""
        config = self.config
        started = time.perf_counter()
        # Epoch 1's batches: without augmentation their collated features are kept for epoch 1.
        batches = (
            make_batch(
                self.train_split, indices, self.processor, self.task, keep=self.augmenter is None
            )
            for indices in self.sampler.batches(0)
        )
        inputs = collect_emotion_inputs(self.model, batches, self.device)
        collected = time.perf_counter()
        warm_up_heads(
            self.model,
            inputs,
            steps=config.head_warmup_steps,
            lr=config.head_warmup_lr,
            weight_decay=config.weight_decay,
            seed=config.seed,
        )
        finished = time.perf_counter()
        log.info(
            "head warm-up: %.1f s for the embeddings, %.1f s for the steps",
            collected - started,
            finished - collected,
        )
        self.progress.elapsed_s += finished - started

    def _out_of_budget(self) -> bool:
        config, progress = self.config, self.progress
        return (config.max_steps is not None and progress.batches_done >= config.max_steps) or (
            self.budget_s is not None and progress.elapsed_s >= self.budget_s
        )

    def _run_epoch(self, stop: StopRequest) -> None:
        progress = self.progress
        batches = self.sampler.batches(progress.epoch)
        progress.epoch_totals = progress.epoch_totals or _epoch_totals()
        bar = tqdm(
            total=len(batches),
            initial=progress.step,
            desc=f"{self.task} epoch {progress.epoch + 1}/{self.config.epochs}",
            unit="batch",
            mininterval=5,
        )
        with bar, self._prefetcher(batches) as prefetch:
            while progress.step < len(batches) and not self._out_of_budget():
                if stop.requested:
                    self._save()
                    log.warning(
                        "resume point saved in %s (epoch %d, batch %d); exiting with status %d",
                        self.resume_path,
                        progress.epoch + 1,
                        progress.step,
                        SIGTERM_EXIT_STATUS,
                    )
                    raise SystemExit(SIGTERM_EXIT_STATUS)
                prefetch.ready(progress.step)
                self.train_step(batches[progress.step])
                bar.update(1)
                totals = progress.epoch_totals
                if totals["steps"]:
                    bar.set_postfix(loss=f"{totals['loss'] / totals['steps']:.3f}", refresh=False)
                if self.on_step is not None:
                    self.on_step(progress.epoch, progress.step - 1)
        self._end_epoch(finished=self._out_of_budget())

    def _prefetcher(self, batches: list[list[int]]) -> BatchPrefetcher:
        # Only unaugmented batches are kept for reuse, so only they can be collated ahead.
        keeps = self.augmenter is None and self.train_split.store.cache
        workers = self.config.collate_workers if keeps else 0
        return BatchPrefetcher(self.train_split, self.processor, self.task, batches, workers)

    def _progress_fraction(self) -> float:
        """Where the learning-rate schedule stands: by batches, or by time under a budget."""
        by_steps = (self.progress.batches_done + 1) / max(self.total_batches, 1)
        by_time = self.progress.elapsed_s / self.budget_s if self.budget_s else 0.0
        return max(by_steps, by_time)

    def train_step(self, indices: list[int]) -> None:
        """One optimizer step on the utterances at `indices` (a batch of the current epoch)."""
        if not self.progress.epoch_totals:
            self.progress.epoch_totals = _epoch_totals()
        config, progress, totals = self.config, self.progress, self.progress.epoch_totals
        started = time.perf_counter()
        global_seed, augment_seed = _step_seeds(config.seed, progress.epoch, progress.step)
        _seed_everything(global_seed)
        generator = torch.Generator().manual_seed(augment_seed)
        batch = make_batch(
            self.train_split, indices, self.processor, self.task, self.augmenter, generator
        )
        padded, real = padded_fraction(batch)
        batch = batch.to(self.device)
        factor = lr_factor(
            self._progress_fraction(), config.warmup_fraction, config.final_lr_fraction
        )
        for group in self.optimizer.param_groups:
            group["lr"] = group["initial_lr"] * factor

        statistics_before = [buffer.clone() for buffer in self.running_statistics]
        with autocast(self.device):
            out = self.model(batch)
        finite = bool(torch.isfinite(out.loss))
        if finite:
            out.loss.backward()
            parameters = [p for group in self.optimizer.param_groups for p in group["params"]]
            norm = torch.nn.utils.clip_grad_norm_(
                parameters, config.max_grad_norm if config.max_grad_norm > 0 else math.inf
            )
            finite = bool(torch.isfinite(norm))
        if finite:
            self.optimizer.step()
            progress.global_step += 1
            progress.nonfinite_in_row = 0
            totals["steps"] += 1
            totals["loss"] += float(out.loss.detach())
            for name in ("ctc_loss", "ser_loss"):
                part = getattr(out, name)
                totals[name] = totals[name] + float(part.detach()) if part is not None else math.nan
        else:
            for buffer, before in zip(self.running_statistics, statistics_before, strict=True):
                buffer.copy_(before)
            self._skip(batch.utt_ids)
        self.optimizer.zero_grad(set_to_none=True)

        totals["padded"] += padded
        totals["real"] += real
        totals["audio_s"] += sum(self.train_split.utterances[i].duration for i in indices)
        elapsed = time.perf_counter() - started
        totals["seconds"] += elapsed
        progress.elapsed_s += elapsed
        progress.step += 1
        progress.batches_done += 1

    def _skip(self, utt_ids: list[str]) -> None:
        progress = self.progress
        progress.nonfinite_in_row += 1
        progress.epoch_totals["skipped"] += 1
        where = f"epoch {progress.epoch + 1} batch {progress.step} (utterances {', '.join(utt_ids[:5])})"
        log.warning("non-finite loss or gradient at %s: batch skipped", where)
        if progress.nonfinite_in_row >= self.config.max_nonfinite_in_row:
            raise NonFiniteLossError(
                f"{progress.nonfinite_in_row} batches in a row gave a non-finite loss or gradient (last: "
                f"{where}); check the audio of {self.train_split.name} and the learning rates "
                "(config key train)"
            )

    def _end_epoch(self, finished: bool) -> None:
        """Skip check, validation, best model, history row and the epoch checkpoint."""
        progress, totals = self.progress, self.progress.epoch_totals
        skipped = int(totals["skipped"])
        if skipped and skipped > self.config.max_nonfinite_fraction * progress.step:
            raise NonFiniteLossError(
                f"epoch {progress.epoch + 1}: {skipped} of {progress.step} batches gave a "
                "non-finite loss or gradient (more than max_nonfinite_fraction="
                f"{self.config.max_nonfinite_fraction}); check the audio of "
                f"{self.train_split.name} and the learning rates (config key train)"
            )
        started = time.perf_counter()
        metrics = validate(
            self.model,
            self.processor,
            self.valid_split,
            self.task,
            self.device,
            self.config.valid_max_batch_seconds,
        )
        validation_s = time.perf_counter() - started
        totals["seconds"] += validation_s
        progress.elapsed_s += validation_s
        score, loss = metrics["valid_score"], metrics["valid_loss"]
        # A tie (e.g. WER still 1.0 early in pretraining) goes to the lower validation loss.
        is_best = score > progress.best_score or (
            score == progress.best_score and loss < progress.best_loss
        )
        if is_best:
            progress.best_score, progress.best_loss = score, loss
            progress.best_epoch = progress.epoch + 1
        row = _history_row(progress.epoch + 1, totals, metrics, is_best, self.optimizer)
        progress.history.append(row)
        log.info("epoch %d: %s", progress.epoch + 1, _describe(row))
        progress.epoch += 1
        progress.step = 0
        progress.epoch_totals = {}
        progress.finished = finished or progress.epoch >= self.config.epochs
        self._save(best=is_best)


def fit(
    model,
    processor,
    train_split: Split,
    valid_split: Split,
    config: TrainConfig,
    checkpoint_dir: str | Path,
    device: torch.device,
    fingerprint: str,
    on_step: Callable[[int, int], None] | None = None,
) -> FitResult:
    """Train `model` in place (resuming from checkpoint_dir when it holds this run's checkpoint)
    and load the best epoch's weights into it; see the module doc.

    fingerprint: identifies the run (settings and data); a checkpoint of another run is discarded.
    on_step(epoch, batch) is called after every batch (tests use it to deliver signals)."""
    if model.task in TEXT_TASKS and not any(
        normalize_transcript(u.transcript).split() for u in valid_split.utterances
    ):
        # Its WER would be NaN every epoch, never the best score: the last epoch would be kept
        # whatever it is.
        raise TrainingError(
            f"validation split {valid_split.name}: no utterance has a reference word, and the "
            f"{model.task} model's best epoch is chosen by its WER; expected transcripts in the "
            "manifest's transcript column"
        )
    trainer = Trainer(
        model,
        processor,
        train_split,
        valid_split,
        config,
        checkpoint_dir,
        device,
        fingerprint,
        on_step,
    )
    return trainer.run()


def _history_row(epoch: int, totals: dict, metrics: dict, is_best: bool, optimizer) -> dict:
    lrs = {"encoder": math.nan, "heads": math.nan}
    for group in optimizer.param_groups:
        lrs[group["name"].removesuffix("_no_decay")] = group["lr"]
    steps = totals["steps"]
    seconds = totals["seconds"]
    return {
        "epoch": epoch,
        "steps": int(steps),
        "train_loss": totals["loss"] / steps if steps else math.nan,
        "ctc_loss": totals["ctc_loss"] / steps if steps else math.nan,
        "ser_loss": totals["ser_loss"] / steps if steps else math.nan,
        **metrics,
        "is_best": is_best,
        "lr_encoder": lrs["encoder"],
        "lr_heads": lrs["heads"],
        "seconds": seconds,
        "audio_seconds_per_second": totals["audio_s"] / seconds if seconds else math.nan,
        "skipped_batches": int(totals["skipped"]),
        "padding_waste": totals["padded"] / totals["real"] if totals["real"] else 0.0,
    }


def _describe(row: dict) -> str:
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items())


# ----------------------------------------------------------------------------------- outputs
def plot_curves(history: pd.DataFrame, path: str | Path, title: str) -> None:
    """Losses (left) and validation metrics (right) per epoch, written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (losses, metrics) = plt.subplots(1, 2, figsize=(10, 4))
    epochs = history["epoch"]
    for column, label in (
        ("train_loss", "training loss"),
        ("ctc_loss", "training CTC"),
        ("ser_loss", "training CE"),
        ("valid_loss", "validation loss"),
    ):
        values = history[column].astype(float)
        if values.notna().any() and (column == "train_loss" or values.abs().sum() > 0):
            losses.plot(epochs, values, marker="o", label=label)
    losses.set(xlabel="epoch", ylabel="loss", title="losses")
    losses.legend()
    for column, label in (("valid_wer", "validation WER"), ("valid_acc", "validation accuracy")):
        values = history[column].astype(float)
        if values.notna().any():
            metrics.plot(epochs, values, marker="o", label=label)
    best = history.loc[history["is_best"].astype(bool), "epoch"]
    if len(best):
        metrics.axvline(int(best.iloc[-1]), color="grey", linestyle=":", label="kept (best)")
    metrics.set(xlabel="epoch", ylabel="fraction", title="validation", ylim=(0, None))
    metrics.legend()
    for axis in (losses, metrics):
        axis.xaxis.get_major_locator().set_params(integer=True)
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path, dpi=100)
    plt.close(fig)


def load_split(
    manifest: str | Path, task: str, max_utterance_seconds: float | None, cache: bool, name: str
) -> Split:
    utterances, _ = load_utterances(manifest, task, max_utterance_seconds)
    return Split(name=f"{name} ({manifest})", utterances=utterances, store=AudioStore(cache))


@dataclass
class TrainResult:
    model_dir: Path
    history: pd.DataFrame
    best_epoch: int
    best_score: float
    resumed_from: tuple[int, int] | None


def train(
    manifest_train: str | Path,
    manifest_valid: str | Path,
    task: str,
    init: str,
    out_model_dir: str | Path,
    history_path: str | Path,
    curves_path: str | Path,
    checkpoint_dir: str | Path,
    hparams: TrainConfig | Mapping | None = None,
    threads: int = 1,
    device: str = "auto",
    bert_name_or_path: str | None = None,
    bert_finetune: bool = False,
    max_utterance_seconds: float | None = None,
    on_step: Callable[[int, int], None] | None = None,
    bert_hub_id: str | None = None,
) -> TrainResult:
    """Fine-tune a `task` model from the CTC encoder `init` (folder or hub id) and write the best
    epoch's model (save_pretrained folder, with provenance.json: asrser.common.provenance), the history
    CSV and the curves PNG. bert_hub_id: the hub id of a BERT folder filled by hand."""
    from asrser.models.processing import check_vocabulary
    from asrser.models.speech_model import build_model, save_model

    if task not in MODEL_TYPES:
        raise TrainingError(f"task must be one of {MODEL_TYPES}, got '{task}'")
    if isinstance(hparams, TrainConfig):
        config = hparams
    else:
        # Every key is checked, also those this model type never reads (a bad alpha is an
        # error for the ASR baseline too, not a value it silently leaves out).
        TrainConfig.from_dict(model_hparams(hparams, task, keep_unused=True))
        config = TrainConfig.from_dict(model_hparams(hparams, task))
    set_cpu_threads(threads)
    torch_device = resolve_device(device)
    splits = {
        name: load_split(path, task, max_utterance_seconds, config.cache_audio, name)
        for name, path in (("train", manifest_train), ("valid", manifest_valid))
    }
    fingerprint = _fingerprint(
        task=task,
        # The weights, not only the names: a demo encoder pretrained again in the same folder
        # must not be overwritten by a checkpoint fine-tuned from the one before it.
        init=model_identity(init),
        bert=[model_identity(bert_name_or_path), bert_finetune] if task == "joint" else None,
        config=config.to_dict(),
        max_utterance_seconds=max_utterance_seconds,
        train=_file_digest(manifest_train),
        valid=_file_digest(manifest_valid),
    )
    _seed_everything(config.seed)
    hparams_for_model = {"alpha": config.alpha, "dropout": config.head_dropout}
    if task == "joint":
        hparams_for_model["bert_finetune"] = bert_finetune
    if task in TEXT_TASKS:
        hparams_for_model["ctc_head"] = config.ctc_head
    model, processor = build_model(
        task,
        init,
        bert_name_or_path if task == "joint" else None,
        encoder_overrides=dict(config.encoder_overrides),
        bert_hub_id=bert_hub_id if task == "joint" else None,
        **hparams_for_model,
    )
    if task in TEXT_TASKS:
        for name, path in (("train", manifest_train), ("valid", manifest_valid)):
            items = splits[name].utterances
            check_vocabulary(
                processor,
                [u.transcript for u in items],
                [u.utt_id for u in items],
                source=str(path),
            )
    log.info(
        "%s from %s on %s (%d threads): %d training utterances (%.1f min), %d validation (%.1f min)",
        task,
        init,
        torch_device,
        threads,
        len(splits["train"].utterances),
        splits["train"].seconds / 60,
        len(splits["valid"].utterances),
        splits["valid"].seconds / 60,
    )
    result = fit(
        model,
        processor,
        splits["train"],
        splits["valid"],
        config,
        checkpoint_dir,
        torch_device,
        fingerprint,
        on_step=on_step,
    )
    provenance = training_provenance(
        task=task,
        settings=config.to_dict(),
        unused_keys=UNUSED_TRAIN_KEYS.get(task, ()),
        manifests={"train": manifest_train, "valid": manifest_valid},
        encoder=init,
        bert=bert_name_or_path if task == "joint" else None,
        bert_finetune=bert_finetune,
        bert_hub_id=bert_hub_id,
        max_utterance_seconds=max_utterance_seconds,
        device=torch_device,
        threads=threads,
        best_epoch=result.best_epoch,
        seconds=result.seconds,
    )
    save_model(model, processor, out_model_dir, extra_json={PROVENANCE_FILE: provenance})
    write_csv(history_path, result.history)
    plot_curves(result.history, curves_path, f"{task}: {Path(manifest_train).name}")
    shutil.rmtree(checkpoint_dir, ignore_errors=True)
    return TrainResult(
        model_dir=Path(out_model_dir),
        history=result.history,
        best_epoch=result.best_epoch,
        best_score=result.best_score,
        resumed_from=result.resumed_from,
    )


def _fingerprint(**facts) -> str:
    return hashlib.sha1(json.dumps(facts, sort_keys=True, default=str).encode()).hexdigest()


__all__ = [
    "FitResult",
    "NonFiniteLossError",
    "Split",
    "TrainConfig",
    "TrainResult",
    "TrainingError",
    "fit",
    "lr_factor",
    "plot_curves",
    "train",
    "validate",
]
