"""Derive the CI cluster's profile from profiles/slurm/config.yaml.

The CI Slurm node has no GPU and only a few CPUs and GB, so the shipped profile cannot run there
as it is: its GPU rules would wait forever for a GPU, its memory requests would exceed the node.
A `--set-resources` on the command line cannot patch this either: it replaces the profile's whole
`set-resources` table instead of merging with it. So the CI run uses a copy of the profile in
which only this changes:

- every `gpu` becomes 0 (the jobs then ask for `--ntasks=1 --cpus-per-task=<threads>`),
- every `mem_mb` becomes `min(<the profile's expression>, <cap>)`, so the attempt scaling is still
  evaluated by Snakemake but a request never exceeds what one job may get on the node,
- `slurm_partition` and `slurm_account` are dropped (the CI cluster has its own default
  partition and no accounts).

    python tests/cluster/ci_profile.py profiles/slurm/config.yaml OUT_DIR/config.yaml --mem-cap 8000
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path

import yaml

CLUSTER_SPECIFIC = ("slurm_partition", "slurm_account")


def _capped(expression: object, cap_mb: int) -> str:
    return f"min({expression}, {cap_mb})"


def _fit_resources(resources: dict, cap_mb: int) -> dict:
    fitted = {k: v for k, v in resources.items() if k not in CLUSTER_SPECIFIC}
    if "gpu" in fitted:
        fitted["gpu"] = 0
    if "mem_mb" in fitted:
        fitted["mem_mb"] = _capped(fitted["mem_mb"], cap_mb)
    return fitted


def derive_ci_profile(profile: dict, mem_cap_mb: int) -> dict:
    """The profile with GPUs off, memory capped and cluster-specific settings removed."""
    if profile.get("executor") != "slurm":
        raise ValueError(
            f"expected a slurm profile (executor: slurm), got {profile.get('executor')!r}"
        )
    derived = copy.deepcopy(profile)
    derived["default-resources"] = _fit_resources(
        profile.get("default-resources") or {}, mem_cap_mb
    )
    derived["set-resources"] = {
        rule: _fit_resources(resources, mem_cap_mb)
        for rule, resources in (profile.get("set-resources") or {}).items()
    }
    return derived


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("profile", type=Path, help="profiles/slurm/config.yaml")
    parser.add_argument("out", type=Path, help="where to write the derived config.yaml")
    parser.add_argument("--mem-cap", type=int, required=True, help="largest mem_mb of one job")
    args = parser.parse_args()
    if args.mem_cap < 100:
        parser.error(f"--mem-cap {args.mem_cap} MB is too small for any job")
    derived = derive_ci_profile(yaml.safe_load(args.profile.read_text()), args.mem_cap)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    header = f"# Derived from {args.profile} by tests/cluster/ci_profile.py for the CI cluster.\n"
    args.out.write_text(header + yaml.safe_dump(derived, sort_keys=False))


if __name__ == "__main__":
    main()
