"""The training loop: AdamW steps over duration-bucketed batches, validated and checkpointed
after every epoch.

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

import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from asrser.data.batching import EMOTION_MODELS, DurationBatchSampler
from asrser.data.collation import BatchPrefetcher, Split, make_batch, padded_fraction
from asrser.runtime.device import autocast
from asrser.training.augment import Augmenter
from asrser.training.checkpoint import CheckpointFolder, ResumePoint, set_random_states
from asrser.training.head_warmup import collect_emotion_inputs, warm_up_heads
from asrser.training.history import HISTORY_COLUMNS, describe_row, epoch_totals, history_row
from asrser.training.optim import lr_factor, make_optimizer
from asrser.training.progress import Progress, group_sizes, running_statistics
from asrser.training.settings import TrainConfig, TrainingError
from asrser.training.stop import SIGTERM_EXIT_STATUS, StopRequest
from asrser.training.validation import validate

log = logging.getLogger(__name__)


class NonFiniteLossError(TrainingError):
    """Too many batches with a NaN/inf loss or gradient."""


def _step_seeds(seed: int, epoch: int, step: int) -> tuple[int, int]:
    """(global seed, augmentation seed) of one optimizer step; see the module doc."""
    state = np.random.SeedSequence([seed, epoch, step]).generate_state(2)
    return int(state[0]), int(state[1])


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


@dataclass
class FitResult:
    history: pd.DataFrame
    best_epoch: int
    best_score: float
    resumed_from: tuple[int, int] | None  # (epoch, batch) of the checkpoint resumed, if any
    seconds: float  # training wall time over all sessions


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
        self.model_type = model.config.model
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
        fits = fits and group_sizes(point.optimizer_state) == own_groups
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
        if (
            resumed_from is None
            and self.config.head_warmup_steps
            and self.model_type in EMOTION_MODELS
        ):
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
                self.train_split,
                indices,
                self.processor,
                self.model_type,
                keep=self.augmenter is None,
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
        progress.epoch_totals = progress.epoch_totals or epoch_totals()
        bar = tqdm(
            total=len(batches),
            initial=progress.step,
            desc=f"{self.model_type} epoch {progress.epoch + 1}/{self.config.epochs}",
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
        return BatchPrefetcher(self.train_split, self.processor, self.model_type, batches, workers)

    def _progress_fraction(self) -> float:
        """Where the learning-rate schedule stands: by batches, or by time under a budget."""
        by_steps = (self.progress.batches_done + 1) / max(self.total_batches, 1)
        by_time = self.progress.elapsed_s / self.budget_s if self.budget_s else 0.0
        return max(by_steps, by_time)

    def train_step(self, indices: list[int]) -> None:
        """One optimizer step on the utterances at `indices` (a batch of the current epoch)."""
        if not self.progress.epoch_totals:
            self.progress.epoch_totals = epoch_totals()
        config, progress, totals = self.config, self.progress, self.progress.epoch_totals
        started = time.perf_counter()
        global_seed, augment_seed = _step_seeds(config.seed, progress.epoch, progress.step)
        seed_everything(global_seed)
        generator = torch.Generator().manual_seed(augment_seed)
        batch = make_batch(
            self.train_split, indices, self.processor, self.model_type, self.augmenter, generator
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
        row = history_row(progress.epoch + 1, totals, metrics, is_best, self.optimizer)
        progress.history.append(row)
        log.info("epoch %d: %s", progress.epoch + 1, describe_row(row))
        progress.epoch += 1
        progress.step = 0
        progress.epoch_totals = {}
        progress.finished = finished or progress.epoch >= self.config.epochs
        self._save(best=is_best)
