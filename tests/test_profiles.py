"""The execution profiles: profiles/slurm (cluster) and profiles/local-gpu (one GPU box).

The static checks read the YAML; the dry runs let Snakemake itself interpret the profiles on a
workflow with the pipeline's rule names, so a key Snakemake would read differently fails here.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from snakemake_executor_plugin_slurm.validation import get_forbidden_slurm_options

ROOT = Path(__file__).resolve().parents[1]
SLURM_PROFILE = ROOT / "profiles" / "slurm" / "config.yaml"
LOCAL_GPU_PROFILE = ROOT / "profiles" / "local-gpu" / "config.yaml"
GPU_RULES = (
    "train_model",
    "evaluate_model",
    "evaluate_fold",
    "evaluate_fold_sweep",
    "evaluate_condition",
    "score_start_encoder",
    "text_oracle",
)
CPU_RULES = (
    "synth_corpus",
    "synth_pretrain_corpus",
    "ingest_iemocap",
    "ingest_musan",
    "mix_corpus",
    "make_fold",
    "aggregate",
    "alpha_sweep",
)


def load(path: Path) -> dict:
    profile = yaml.safe_load(path.read_text())
    assert isinstance(profile, dict), f"{path} is not a YAML mapping"
    return profile


def evaluate(expression: object, attempt: int) -> int:
    """A resource value the way Snakemake evaluates it: a Python expression of `attempt`."""
    return (
        expression if isinstance(expression, int) else eval(str(expression), {"attempt": attempt})
    )


@pytest.fixture(scope="module")
def slurm() -> dict:
    return load(SLURM_PROFILE)


@pytest.fixture(scope="module")
def local_gpu() -> dict:
    return load(LOCAL_GPU_PROFILE)


def test_slurm_profile_uses_the_slurm_executor_and_survives_failures(slurm):
    assert slurm["executor"] == "slurm"
    assert slurm["jobs"] >= 1
    assert slurm["retries"] >= 1
    assert slurm["rerun-incomplete"] is True
    assert slurm["keep-going"] is True
    assert slurm["latency-wait"] >= 5  # shared file systems lag behind the compute nodes


@pytest.mark.parametrize("rule", GPU_RULES)
def test_slurm_profile_gives_training_and_evaluation_a_gpu(slurm, rule):
    resources = slurm["set-resources"][rule]
    assert resources["gpu"] == 1
    assert isinstance(resources["cpus_per_gpu"], int) and resources["cpus_per_gpu"] >= 1
    assert evaluate(resources["mem_mb"], 1) >= 4000
    assert evaluate(resources["runtime"], 1) >= 30


@pytest.mark.parametrize("rule", CPU_RULES)
def test_slurm_profile_keeps_data_and_report_rules_on_cpus(slurm, rule):
    resources = slurm["set-resources"][rule]
    assert "gpu" not in resources and "cpus_per_gpu" not in resources
    assert "gpu" not in slurm["default-resources"]


def declared_rules() -> tuple[set[str], set[str]]:
    """(every rule the workflow declares, those of them marked `localrule: True`)."""
    declared, local = set(), set()
    for path in [ROOT / "Snakefile", *sorted((ROOT / "rules").glob("*.smk"))]:
        text = path.read_text()
        starts = list(re.finditer(r"^\s*rule (\w+):", text, re.M))
        ends = [start.start() for start in starts[1:]] + [len(text)] * bool(starts)
        for start, end in zip(starts, ends, strict=True):
            declared.add(start.group(1))
            block = text[start.end() : end]
            if re.search(r"^\s*localrule:\s*True", block, re.M):
                local.add(start.group(1))
    return declared, local


def test_slurm_profile_sizes_every_rule_that_runs_a_job(slurm):
    """A rule missing here keeps its config-derived memory and runtime on every retry. Local
    rules (the hub models' fetch) run where Snakemake runs, never through Slurm."""
    declared, local = declared_rules()
    targets = {"all", "data", "unknown_fold"}  # input-only targets, run by Snakemake itself
    assert targets <= declared
    assert local == {"fetch_model", "fetch_models"}
    submitted = declared - targets - local
    assert submitted == set(GPU_RULES) | set(CPU_RULES) | {"pretrain_encoder", "preflight"}
    assert set(slurm["set-resources"]) == submitted


def test_slurm_profile_sends_the_preflight_to_a_gpu_node_once(slurm):
    """`snakemake preflight --profile profiles/slurm` checks a node like the training's."""
    resources = slurm["set-resources"]["preflight"]
    assert resources["gpu"] == 1
    assert isinstance(resources["cpus_per_gpu"], int) and resources["cpus_per_gpu"] >= 1
    assert evaluate(resources["mem_mb"], 1) >= 4000
    assert evaluate(resources["runtime"], 1) >= 10
    # A failing check fails again: the rule asks for no retries, whatever the profile says.
    rule = (ROOT / "rules" / "preflight.smk").read_text()
    assert re.search(r"^\s*retries: 0$", rule, re.M)


def test_slurm_profile_scales_memory_and_runtime_with_the_attempt(slurm):
    tables = [slurm["default-resources"], *slurm["set-resources"].values()]
    for resources in tables:
        for name in ("mem_mb", "runtime"):
            first, retry = evaluate(resources[name], 1), evaluate(resources[name], 2)
            assert retry > first > 0, f"{name} = {resources[name]!r} does not grow with attempt"


def test_slurm_profile_leaves_partition_and_account_to_the_user(slurm):
    assert "slurm_partition" not in slurm["default-resources"]
    assert "slurm_account" not in slurm["default-resources"]
    text = SLURM_PROFILE.read_text()
    assert re.search(r"^\s*#\s*slurm_partition:", text, re.M)
    assert re.search(r"^\s*#\s*slurm_account:", text, re.M)


def test_slurm_profile_has_nothing_gpu_related_in_slurm_extra(slurm):
    """The plugin refuses --gres/--gpus (and what it sets itself) in slurm_extra."""
    tables = {"default-resources": slurm["default-resources"], **slurm["set-resources"]}
    forbidden = get_forbidden_slurm_options()
    for where, resources in tables.items():
        extra = str(resources.get("slurm_extra", ""))
        assert not re.search(r"gres|gpu", extra, re.I), f"{where}: slurm_extra {extra!r}"
        for pattern, option in forbidden.items():
            assert not re.search(pattern, extra), f"{where}: slurm_extra sets the {option}"


def test_local_gpu_profile_runs_gpu_jobs_one_at_a_time(local_gpu):
    assert local_gpu["resources"] == {"gpu": 1}
    assert isinstance(local_gpu["cores"], int) and local_gpu["cores"] >= 1
    # No config values: a --config on the command line would replace them all. The packing, one
    # evaluation job per model, is evaluation.jobs auto's choice for this profile
    # (tests/test_workflow_plan.py plans the paper config with it).
    assert "config" not in local_gpu
    assert local_gpu["rerun-incomplete"] is True
    assert local_gpu["keep-going"] is True
    assert "executor" not in local_gpu


# A workflow with the pipeline's rule names: what Snakemake makes of the profiles.
PROBE_SNAKEFILE = """
configfile: "probe.yaml"

rule all:
    input: "trained.txt", "mixed.txt"

rule train_model:
    output: "trained.txt"
    threads: 1
    resources: gpu=config["resources"]["gpu"], mem_mb=100, runtime=1
    shell: "echo gpu={resources.gpu} mem_mb={resources.mem_mb} runtime={resources.runtime} > {output}"

rule mix_corpus:
    output: "mixed.txt"
    shell: "echo evaluation_jobs={config[evaluation][jobs]} mem_mb={resources.mem_mb} > {output}"
"""


def dry_run(workdir: Path, profile: Path) -> str:
    (workdir / "Snakefile").write_text(PROBE_SNAKEFILE)
    (workdir / "probe.yaml").write_text("resources: {gpu: 0}\nevaluation: {jobs: per_evaluation}\n")
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--profile", str(profile.parent)],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def test_snakemake_reads_the_slurm_profile_resources(tmp_path):
    output = dry_run(tmp_path, SLURM_PROFILE)
    # The profile's gpu overrides the config's 0; the attempt expressions evaluate at attempt 1.
    assert "echo gpu=1 mem_mb=32000 runtime=720 > trained.txt" in output
    assert "mem_mb=8000 > mixed.txt" in output


def test_snakemake_reads_the_local_gpu_profile(tmp_path):
    output = dry_run(tmp_path, LOCAL_GPU_PROFILE)
    # The profile leaves the config file's settings as they are.
    assert "echo evaluation_jobs=per_evaluation" in output
    assert "echo gpu=0 mem_mb=100 runtime=1 > trained.txt" in output


def load_ci_profile_module():
    path = ROOT / "tests" / "cluster" / "ci_profile.py"
    spec = importlib.util.spec_from_file_location("ci_profile", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ci_cluster_copy_of_the_slurm_profile_turns_gpus_off_and_caps_memory(slurm):
    derived = load_ci_profile_module().derive_ci_profile(slurm, mem_cap_mb=3000)
    for rule in GPU_RULES:
        resources = derived["set-resources"][rule]
        assert resources["gpu"] == 0
        assert evaluate(resources["mem_mb"], 1) == 3000
        assert resources["runtime"] == slurm["set-resources"][rule]["runtime"]
    assert evaluate(derived["default-resources"]["mem_mb"], 1) == 2000
    assert evaluate(derived["default-resources"]["mem_mb"], 3) == 3000
    assert {k: v for k, v in derived.items() if "resources" not in k} == {
        k: v for k, v in slurm.items() if "resources" not in k
    }
