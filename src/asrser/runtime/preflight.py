"""`snakemake preflight`: does the node it runs on have what the configured run needs?

Four topics, each checked whatever the others found, so that one report lists every problem:

GPU      config key device: cuda runs asrser.runtime.device.check_gpu (a bf16 matrix product and a CTC
         loss with its backward pass on the GPU, against CPU references); cpu skips it; auto
         checks a GPU when one is visible and otherwise says that the jobs run on the CPU.
models   the encoder and BERT: a hub model's folder in models_dir complete (with the revision
         and commit it was fetched at, or filled by hand), or, when it is missing, the hub
         answering for it from this node (unless the hub is offline); a local folder complete.
disk     free space against the run's needs, per filesystem (asrser.runtime.disk_check): the hub models
         still to fetch, the trained model folders and mixed corpora still to write, and one
         training's checkpoints at their peak in checkpoint_root (expanded on this node), with
         the number of trainings at once that fit. Sizes come from asrser.runtime.disk (the configured
         models' parameter counts), measured against the files at the paper's size.
corpus   the corpus roots, one level deeper than the plan's check (asrser.data.corpus_check).

What the plan checks before any job starts is not repeated: the config against its schema, the
corpus roots' top folders, a checkpoint root the planning machine cannot write, a hub model's
folder that is incomplete, or missing while the hub is offline. Those stop `snakemake preflight`
before the report, each with its own one-line error.

Statuses: ok; warning (the run can go on; read it); skipped (nothing to check here, or not yet
checkable, with the reason); FAILED. The preflight fails when any check failed.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from asrser import MODEL_TYPES, TRAIN_CONDITIONS
from asrser.common.config import ConfigError
from asrser.common.run_names import run_name
from asrser.runtime.checkpoint_root import KEY as CHECKPOINT_KEY
from asrser.runtime.checkpoint_root import check_writable, expand_root
from asrser.runtime.disk_check import Need, by_filesystem, describe, gigabytes
from asrser.runtime.hub import (
    MODEL_ROLES,
    HubError,
    configured_model,
    fill_instructions,
    hub_offline,
    read_fetch_record,
)
from asrser.runtime.hub_fetch import probe_hub
from asrser.runtime.model_files import model_folder_problems

log = logging.getLogger(__name__)

OK, WARNING, SKIPPED, FAILED = "ok", "warning", "skipped", "FAILED"
TOPICS = ("GPU", "models", "disk", "corpus")


@dataclass(frozen=True)
class Check:
    topic: str
    status: str
    detail: str


# ---------------------------------------------------------------------------------------- GPU
def check_device(setting: str) -> list[Check]:
    """The GPU check for config key device (`setting`)."""
    from asrser.runtime.device import (
        DeviceError,
        check_gpu,
        cuda_problem,
        describe_cuda_setup,
        driver_version,
    )

    if setting == "cpu":
        return [Check("GPU", SKIPPED, "skipped (device cpu): the jobs run on the CPU")]
    if setting == "auto":
        problem = cuda_problem()
        if problem is not None:
            what, why = problem
            driver = driver_version()
            if driver is None:
                return [Check("GPU", SKIPPED, f"device auto and {what}: the jobs run on the CPU")]
            return [
                Check(
                    "GPU",
                    WARNING,
                    f"device auto, NVIDIA driver {driver} installed, but {what} ({why}): the "
                    f"jobs run on the CPU; {describe_cuda_setup()}. Set device: cuda to make "
                    "this an error",
                )
            ]
    try:
        report = check_gpu()
    except DeviceError as error:
        prefix = (
            "device auto uses the GPU here, which fails the check: " if setting == "auto" else ""
        )
        return [Check("GPU", FAILED, prefix + str(error))]
    return [Check("GPU", OK, report.describe())]


# ------------------------------------------------------------------------------------- models
def _hub_model_check(model, command: str) -> tuple[Check, int]:
    """A hub model's folder, or the hub's answer for it; the bytes still to fetch."""
    folder = Path(model.path)
    named = f"config key '{model.key}': '{model.hub_id}' in '{folder}'"
    if folder.exists():
        problems = model_folder_problems(folder)
        if problems:
            detail = (
                f"{named} is incomplete ({'; '.join(problems)}), so it is never loaded: remove "
                f"it and {fill_instructions(model, command)}"
            )
            return Check("models", FAILED, detail), 0
        record = read_fetch_record(folder)
        if record is None:
            return Check("models", OK, f"{named}: complete, filled by hand (no fetch record)"), 0
        held = f"revision '{record.get('revision')}' = commit {str(record.get('commit'))[:12]}"
        if record.get("revision") != model.revision:
            detail = f"{named} holds {held}, the config asks for '{model.revision}'"
            if hub_offline():
                return Check("models", FAILED, f"{detail}, and the hub is offline"), 0
            return Check("models", WARNING, f"{detail}: the run fetches it again"), 0
        fetched = record.get("fetched_at", "at an unknown time")
        return Check("models", OK, f"{named}: complete, {held}, fetched {fetched}"), 0
    if hub_offline():
        detail = (
            f"{named} is missing and the hub is offline (HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE): "
            + fill_instructions(model, command)
        )
        return Check("models", FAILED, detail), 0
    try:
        commit, size = probe_hub(model)
    except HubError as error:  # its message names the key too
        reason = str(error).removeprefix(f"config key '{model.key}': ")
        return Check("models", FAILED, f"{named} is missing, and {reason}"), 0
    detail = (
        f"{named} is not fetched yet; the hub answers from this node (revision "
        f"'{model.revision}' = commit {commit[:12]}, {gigabytes(size)}): the run fetches it "
        f"before any job that loads it, or `{command}` now"
    )
    return Check("models", OK, detail), size


def check_models(config: Mapping, command: str) -> tuple[list[Check], int]:
    """A check per configured model (encoder, BERT); the bytes of hub models still to fetch.
    `command` fills the models folder (the workflow's fetch_models with this run's options)."""
    checks, to_fetch, seen = [], 0, set()
    for role in MODEL_ROLES:
        model = configured_model(config, role)
        if role == "encoder" and config["encoder"].get("pretrain_demo"):
            if model_folder_problems(model.path):
                detail = f"'{model.path}': the demo encoder, which this workflow pretrains, not yet"
                checks.append(Check("models", SKIPPED, detail))
            else:
                checks.append(Check("models", OK, f"'{model.path}': the pretrained demo encoder"))
        elif model.hub_id is not None:
            if model.hub_id in seen:
                continue
            seen.add(model.hub_id)
            check, size = _hub_model_check(model, command)
            checks.append(check)
            to_fetch += size
        else:
            problems = model_folder_problems(model.folder)
            named = f"config key '{model.key}': '{model.name}' ({model.folder})"
            if problems:
                detail = f"{named} is incomplete ({'; '.join(problems)}), so it is never loaded"
                checks.append(Check("models", FAILED, detail))
            else:
                checks.append(Check("models", OK, f"{named}: complete"))
    return checks, to_fetch


# --------------------------------------------------------------------------------------- disk
@dataclass(frozen=True)
class RunLayout:
    """Where the workflow writes, as its rules name it (rules/preflight.smk passes these)."""

    results: str  # the results folder
    trained_model: str  # a trained model folder: "{run}" (a run name) and "{fold}" to fill in
    corpus_manifests: tuple[str, ...]  # the mixed corpora's manifests (one per corpus)


def _training_sizes(config: Mapping):
    from asrser.runtime.disk import training_sizes

    encoder = configured_model(config, "encoder").folder
    bert = configured_model(config, "bert").folder
    return training_sizes(str(encoder), str(bert), bool(config["bert"]["finetune"]))


def check_disk(
    config: Mapping, layout: RunLayout, to_fetch: int, iemocap_audio_bytes: int, command: str
) -> list[Check]:
    """Free disk per filesystem against the run's needs (see the module doc)."""
    from asrser.runtime.disk import OVERHEAD_BYTES

    checks, needs = [], []
    if to_fetch:
        what = f"{gigabytes(to_fetch)} for the hub models still to fetch"
        needs.append(Need("models_dir", Path(config["models_dir"]), to_fetch, what))
    root = config[CHECKPOINT_KEY]
    try:
        checkpoint_folder = expand_root(root)
        check_writable(checkpoint_folder, root)
    except ConfigError as error:  # a variable unset on this node, or not writable here
        checks.append(Check("disk", FAILED, str(error)))
        checkpoint_folder = None
    try:
        sizes = _training_sizes(config)
    except FileNotFoundError:  # no config.json yet: a model still to fetch, or to pretrain
        if config["encoder"].get("pretrain_demo"):
            when = "once this workflow has pretrained the demo encoder"
        else:
            when = f"once the models are fetched (`{command}`)"
        detail = (
            f"skipped: the trainings' sizes come from the models' config.json; run it again {when}"
        )
        checks.append(Check("disk", SKIPPED, detail))
        sizes = None
    if sizes is not None:
        # Every training of the main run: each model type, condition, fold and seed of train.seeds.
        runs = [
            (model, run_name(model, train, seed))
            for model in MODEL_TYPES
            for train in TRAIN_CONDITIONS
            for seed in config["train"].get("seeds", [0])
        ]
        pending = [
            model
            for model, run in runs
            for fold in config["speakers"]
            if model_folder_problems(layout.trained_model.format(run=run, fold=fold))
        ]
        total = len(runs) * len(config["speakers"])
        model_bytes = sum(sizes[model].model_folder_bytes + OVERHEAD_BYTES for model in pending)
        if pending:
            what = f"{len(pending)} of {total} trained model folders to write ({gigabytes(model_bytes)})"
            needs.append(Need("results/", Path(layout.results), model_bytes, what))
        if pending and checkpoint_folder is not None:
            peak = max(sizes[model].peak_checkpoint_bytes + OVERHEAD_BYTES for model in pending)
            what = f"{gigabytes(peak)} of checkpoints per training at its peak"
            needs.append(Need("checkpoint_root", checkpoint_folder, 0, what, peak))
    corpora = [path for path in layout.corpus_manifests if not os.path.exists(path)]
    if corpora and iemocap_audio_bytes:
        mixed = len(corpora) * iemocap_audio_bytes
        what = (
            f"{len(corpora)} corpora to mix (at most {gigabytes(mixed)}: IEMOCAP's sentence "
            f"wavs {len(corpora)} times over, less as {config['data']['audio_format']})"
        )
        needs.append(Need("results/", Path(layout.results), mixed, what))
    for group in by_filesystem(needs):
        checks.append(Check("disk", OK if group.fits else FAILED, describe(group)))
    if not needs and not checks:
        checks.append(Check("disk", OK, "nothing left to write: every training is done"))
    return checks


# ------------------------------------------------------------------------------------- corpus
def check_corpora(config: Mapping) -> tuple[list[Check], int]:
    """A check per corpus root; the bytes of IEMOCAP's sentence wavs (0 when not looked at)."""
    from asrser.data.corpus_check import look_into_iemocap, look_into_musan

    if config["synthetic"]["enabled"]:
        detail = "skipped (synthetic.enabled): the workflow writes iemocap_root and musan_root"
        return [Check("corpus", SKIPPED, detail)], 0
    checks = []
    iemocap = look_into_iemocap(config["iemocap_root"], list(config["speakers"]))
    musan = look_into_musan(config["musan_root"])
    for key, found in (("iemocap_root", iemocap), ("musan_root", musan)):
        if found.problems:
            checks.append(Check("corpus", FAILED, "; ".join(found.problems)))
        else:
            detail = f"{key} '{config[key]}': valid at plan time; {found.summary}"
            checks.append(Check("corpus", OK, detail))
    return checks, iemocap.audio_bytes


# -------------------------------------------------------------------------------------- report
def _guarded(topic: str, default, function: Callable, *args):
    """`function(*args)`, or a failed check naming the error when the check itself breaks (the
    other topics are still checked)."""
    try:
        return function(*args)
    except Exception as error:
        log.exception("the %s check failed", topic)
        failed = [Check(topic, FAILED, f"the check itself failed: {type(error).__name__}: {error}")]
        return failed if default is None else (failed, default)


def run_preflight(config: Mapping, layout: RunLayout, command: str) -> list[Check]:
    """Every check, in TOPICS order. `command` fills the models folder."""
    gpu = _guarded("GPU", None, check_device, config["device"])
    models, to_fetch = _guarded("models", 0, check_models, config, command)
    corpus, iemocap_bytes = _guarded("corpus", 0, check_corpora, config)
    disk = _guarded("disk", None, check_disk, config, layout, to_fetch, iemocap_bytes, command)
    return gpu + models + disk + corpus


def failures(checks: list[Check]) -> list[Check]:
    return [check for check in checks if check.status == FAILED]


def report(checks: list[Check], where: str) -> str:
    """The report: a line per check, then the verdict. `where`: the node and the time."""
    width = max(len(status) for status in (OK, WARNING, SKIPPED, FAILED))
    lines = [f"asrser preflight on {where}"]
    lines += [f"  {check.topic:7} {check.status:{width}}  {check.detail}" for check in checks]
    failed = failures(checks)
    counts = ", ".join(
        f"{sum(check.status == status for check in checks)} {status.lower()}"
        for status in (OK, WARNING, SKIPPED, FAILED)
    )
    if failed:
        topics = list(dict.fromkeys(check.topic for check in failed))
        named = " and ".join([", ".join(topics[:-1]), topics[-1]] if len(topics) > 1 else topics)
        lines.append(f"preflight FAILED ({counts}): fix {named}, then run it again")
    else:
        lines.append(f"preflight passed ({counts})")
    return "\n".join(lines) + "\n"
