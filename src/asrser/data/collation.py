"""A split's batches: collated in the training process, kept for reuse, or collated ahead of
the step in forked worker processes (BatchPrefetcher)."""

from __future__ import annotations

import logging
import multiprocessing
import pickle
import signal
from dataclasses import dataclass, field, replace

from asrser.data.batching import EMOTION_MODELS, TEXT_MODELS, AudioStore, Utterance
from asrser.runtime.device import set_cpu_threads

log = logging.getLogger(__name__)


@dataclass
class Split:
    """Utterances of one manifest and where their audio comes from.

    With an in-memory audio store, un-augmented batches (validation; training without
    augmentation) are kept once collated: feature extraction (the log-mel front end runs in numpy)
    costs as much as a model step on the CPU."""

    name: str
    utterances: list[Utterance]
    store: AudioStore
    batches: dict[tuple[int, ...], object] = field(default_factory=dict, repr=False)

    @property
    def durations(self) -> list[float]:
        return [u.duration for u in self.utterances]

    @property
    def seconds(self) -> float:
        return float(sum(self.durations))


def make_batch(
    split: Split, indices, processor, model: str, augmenter=None, generator=None, keep: bool = True
):
    """Collate the utterances at `indices` (augmented when an augmenter is given). keep=False:
    do not keep an unaugmented batch for reuse (training will not ask for it again)."""
    from asrser.models.processing import collate

    key = tuple(indices)
    if augmenter is None and key in split.batches:
        return split.batches[key]
    # An unaugmented batch is kept whole, so its audio need not be (it would double the memory).
    keep_batch = augmenter is None and split.store.cache and keep
    items = [split.utterances[i] for i in indices]
    waveforms = [split.store.waveform(u, keep=not keep_batch) for u in items]
    if augmenter is not None:
        waveforms = augmenter(waveforms, generator)
    batch = collate(
        waveforms,
        [u.transcript for u in items] if model in TEXT_MODELS else None,
        [u.emotion for u in items] if model in EMOTION_MODELS else None,
        [u.utt_id for u in items],
        processor,
    )
    if keep_batch:
        split.batches[key] = batch
    return batch


def padded_fraction(batch) -> tuple[int, int]:
    """(padded, real) positions of a collated batch's model input."""
    mask = batch.inputs["attention_mask"]
    real = int(mask.sum())
    return int(mask.numel()) - real, real


_WORKER_STATE: tuple | None = None  # (split, processor, model) in a collate worker process


def _start_collate_worker(split: Split, processor, model: str) -> None:
    """Initialiser of a collate worker (forked): one thread, and audio never kept (the worker
    returns each batch and keeps nothing). Slurm's SIGTERM ends it; Ctrl-C is the parent's."""
    global _WORKER_STATE
    set_cpu_threads(1)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER_STATE = (replace(split, store=AudioStore(cache=False), batches={}), processor, model)


def _collate_in_worker(indices: list[int]) -> bytes:
    split, processor, model = _WORKER_STATE
    batch = make_batch(split, indices, processor, model, keep=False)
    # Plain pickle copies the tensors; torch's multiprocessing pickler would share them through
    # a file descriptor each, and the cache keeps a whole epoch of batches.
    return pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)


class BatchPrefetcher:
    """Collates the epoch's batches that are not kept yet in `workers` forked processes, a few
    batches ahead of the step that trains them, and keeps them in the split (where make_batch
    finds them). Only unaugmented batches are kept, and they are deterministic, so the model is
    the same as when the training process collates them (tested). On the demo the first
    pretraining epoch's log-mel features cost ~50 s of 5.5 min, on one core, while the step's
    second torch thread gained ~5 %. A worker that fails is dropped with a warning: the training
    process then collates as it would without one."""

    AHEAD = 8

    def __init__(self, split: Split, processor, model: str, batches, workers: int):
        self.split, self.batches = split, batches
        self.pending: dict[int, object] = {}
        self.next_submit = 0
        self.executor = None
        missing = sum(tuple(b) not in split.batches for b in batches)
        if workers and missing and "fork" in multiprocessing.get_all_start_methods():
            from concurrent.futures import ProcessPoolExecutor

            self.executor = ProcessPoolExecutor(
                workers,
                mp_context=multiprocessing.get_context("fork"),
                initializer=_start_collate_worker,
                initargs=(split, processor, model),
            )
            log.info("collating %d batches in %d worker process(es)", missing, workers)

    def __enter__(self) -> BatchPrefetcher:
        return self

    def __exit__(self, *exc) -> None:
        self._close()

    def _close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None
        self.pending.clear()

    def ready(self, step: int) -> None:
        """Keep batch `step` in the split if a worker collated it; queue the next ones."""
        if self.executor is None:
            return
        try:
            self.next_submit = max(self.next_submit, step)
            while self.next_submit < min(step + self.AHEAD, len(self.batches)):
                key = tuple(self.batches[self.next_submit])
                if key not in self.split.batches:
                    self.pending[self.next_submit] = self.executor.submit(
                        _collate_in_worker, list(key)
                    )
                self.next_submit += 1
            future = self.pending.pop(step, None)
            if future is not None:
                self.split.batches[tuple(self.batches[step])] = pickle.loads(future.result())
        except Exception as error:  # BrokenProcessPool, or the worker's own error
            log.warning(
                "collate worker failed (%s: %s); collating in the training process",
                type(error).__name__,
                error,
            )
            self._close()
