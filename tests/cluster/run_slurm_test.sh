#!/usr/bin/env bash
# make test-cluster: run the pipeline on a real single-node Slurm (not a mock) and check that the
# jobs went through sbatch and that their outputs equal those of a local run.
#
# 1. slurm_up.sh installs slurm-wlm + munge when missing and starts munged, slurmctld, slurmd
#    (stopped again by slurm_down.sh on exit, by their recorded pids).
# 2. A snapshot of the working tree (git ls-files: tracked + untracked, not ignored) is copied
#    twice into a temporary directory, so the user's results/ are never touched.
# 3. Copy 1 runs TARGETS through `snakemake --profile <profiles/slurm adapted to the CI node>`
#    (see ci_profile.py: no GPU, memory capped), with the plugin's squeue status queries and no
#    account (there is no accounting database).
# 4. verify_sbatch.py: every job Snakemake started was submitted with a Slurm job id, has its
#    Slurm log and is COMPLETED in squeue; no rule ran outside Slurm.
# 5. Copy 2 runs the same TARGETS locally; compare_outputs.py compares what the two runs wrote
#    (resources/: synthetic corpus and demo encoder; results/), bit for bit (numbers and pixels).
# 6. Only when they differ: the CPU and Slurm's retries are logged, and a third copy runs locally.
#    Two local runs that agree make the difference Slurm's (FAILED); two that differ as well mean
#    this machine does not reproduce runs bit for bit, and Slurm's outputs must then equal the
#    local ones within a tolerance that the two local runs meet too (PASSED with a WARNING).
#
# Where it cannot run (not root, no apt-get) it prints "SKIPPED: <reason>" and exits 0.
# Any other problem exits non-zero. Set ASRSER_KEEP_WORK=1 to keep the run directories.
set -euo pipefail

# The data stage and one fold's 6 trainings and their evaluations (the lead adjusts this).
TARGETS=${ASRSER_CLUSTER_TARGETS:-"data fold_Ses01F"}
CONFIGFILE=config/test.yaml
# Where two local runs differ too: the tolerance within which Slurm's outputs must equal them.
NOISE_RTOL=0.05
NOISE_ATOL=0.001
# Wall-clock limit of each of the two runs; the whole test should take well under 10 minutes.
RUN_LIMIT_S=${ASRSER_CLUSTER_RUN_LIMIT_S:-1200}

if ! command -v snakemake >/dev/null; then
    echo "[test-cluster] FAILED: snakemake not on PATH (run it through make test-cluster)" >&2
    exit 1
fi
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=${ASRSER_CLUSTER_REPO:-$(cd "$HERE/../.." && pwd)}
export ASRSER_SLURM_STATE=${ASRSER_SLURM_STATE:-/tmp/asrser-slurm}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/asrser-cluster-test.XXXXXX")
TEST_START=$SECONDS

log() { echo "[test-cluster] $*" >&2; }
fail() {
    echo "[test-cluster] FAILED: $*" >&2
    exit 1
}

cleanup() {
    local status=$?
    bash "$HERE/slurm_down.sh" || status=1
    if ((status == 0)) && [[ ${ASRSER_KEEP_WORK:-0} != 1 ]]; then
        rm -rf "$WORK"
    else
        log "run directories kept in $WORK"
    fi
    exit "$status"
}

start_slurm() {
    local status=0 started=$SECONDS
    bash "$HERE/slurm_up.sh" >"$WORK/slurm_up.out" || status=$?
    if ((status == 77)); then
        local reason
        reason=$(sed -n 's/^SKIP: //p' "$WORK/slurm_up.out")
        trap - EXIT
        rm -rf "$WORK"
        echo "SKIPPED: ${reason:-slurm_up.sh cannot run on this machine}"
        exit 0
    fi
    ((status == 0)) || fail "slurm_up.sh exited with $status (logs in $ASRSER_SLURM_STATE/log)"
    export SLURM_CONF=$ASRSER_SLURM_STATE/slurm.conf
    log "Slurm ready in $((SECONDS - started)) s (install and start)"
}

# A snapshot of the working tree as git sees it: tracked and untracked files, ignored ones not
# (outside a git checkout: everything but the venv, git data and workflow outputs).
snapshot_repo() {
    local dest=$1
    mkdir -p "$dest"
    if git -C "$REPO" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        # --ignore-failed-read: a tracked file deleted in the working tree is simply not copied.
        git -C "$REPO" ls-files --cached --others --exclude-standard -z |
            tar --create --file=- --directory="$REPO" --null --files-from=- \
                --ignore-failed-read 2>/dev/null |
            tar --extract --file=- --directory="$dest"
    else
        tar --create --file=- --directory="$REPO" --exclude=./.git --exclude=./.venv \
            --exclude=./.snakemake --exclude=./results --exclude=./logs --exclude=./resources . |
            tar --extract --file=- --directory="$dest"
    fi
    [[ -f $dest/Snakefile ]] || fail "snapshot of $REPO in $dest has no Snakefile"
}

# The largest memory one job may ask for: the node's memory shared by its CPUs, so that the
# node can still run one job per CPU.
node_mem_cap() {
    scontrol show node "$(hostname -s)" | awk '
        match($0, /RealMemory=[0-9]+/) { mem = substr($0, RSTART + 11, RLENGTH - 11) }
        match($0, /CPUTot=[0-9]+/) { cpus = substr($0, RSTART + 7, RLENGTH - 7) }
        END { print int(mem / (cpus > 0 ? cpus : 1)) }'
}

run_on_slurm() {
    local dir=$WORK/slurm started=$SECONDS
    python "$HERE/ci_profile.py" "$dir/profiles/slurm/config.yaml" "$WORK/ci-profile/config.yaml" \
        --mem-cap "$(node_mem_cap)"
    log "Slurm run: snakemake $TARGETS --profile <CI copy of profiles/slurm> in $dir"
    # Targets first: --configfile takes several values and would swallow targets after it.
    # shellcheck disable=SC2086
    (cd "$dir" && timeout --signal=INT --kill-after=60 "$RUN_LIMIT_S" \
        snakemake $TARGETS \
        --profile "$WORK/ci-profile" \
        --configfile "$CONFIGFILE" \
        --slurm-status-command squeue \
        --slurm-no-account \
        --slurm-keep-successful-logs \
        --slurm-init-seconds-before-status-checks 2) >"$WORK/slurm-run.log" 2>&1 ||
        {
            tail -n 60 "$WORK/slurm-run.log" >&2
            fail "the Slurm run failed (full output: $WORK/slurm-run.log)"
        }
    log "Slurm run finished in $((SECONDS - started)) s"
}

run_locally() {
    local dir=${1:-$WORK/local} started=$SECONDS
    log "local run: snakemake $TARGETS --cores $(nproc) in $dir"
    # shellcheck disable=SC2086
    (cd "$dir" && timeout --signal=INT --kill-after=60 "$RUN_LIMIT_S" \
        snakemake $TARGETS --cores "$(nproc)" --resources gpu=0 --configfile "$CONFIGFILE") \
        >"$WORK/local-run.log" 2>&1 ||
        {
            tail -n 60 "$WORK/local-run.log" >&2
            fail "the local run failed (full output: $WORK/local-run.log)"
        }
    log "local run finished in $((SECONDS - started)) s"
}

# After a difference: what a CI log's tail needs to tell its cause. The machine (kernels differ
# by CPU), retried Slurm jobs (a resumed training), and whether a second local run differs from
# the first as well (then the runs are not reproducible at all, whatever Slurm does).
explain_difference() {
    log "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs," \
        "$(grep -o -w -E 'avx2|avx512f|amx_tile' /proc/cpuinfo | sort -u | tr '\n' ' ')"
    log "$(python -c 'import numpy, torch; print("torch", torch.__version__, "numpy", numpy.__version__)')"
    log "Slurm run: $(grep -c -E 'Trying to restart|Error in rule' "$WORK/slurm-run.log" || true)" \
        "failed or restarted job(s)"
    snapshot_repo "$WORK/local-again"
    run_locally "$WORK/local-again"
}

# Where two local runs agree bit for bit, Slurm's run must too: it does not, so FAILED. Where they
# do not (some CPU kernels are not reproducible from process to process on some machines),
# Slurm's outputs must equal the local ones within NOISE_RTOL/NOISE_ATOL, a tolerance the two
# local runs must meet as well: a different config, corpus or code under Slurm still fails.
within_noise() {
    local noise=(--rtol "$NOISE_RTOL" --atol "$NOISE_ATOL" --subdirs "$@")
    if python "$HERE/compare_outputs.py" "$WORK/local" "$WORK/local-again" --subdirs "$@" \
        >"$WORK/local-again.compare" 2>&1; then
        fail "Slurm and local outputs differ, and two local runs do not (the difference comes with Slurm)"
    fi
    log "WARNING: two local runs differ as well; this machine does not reproduce a run bit for" \
        "bit. Their differences:"
    tail -n 12 "$WORK/local-again.compare" >&2
    python "$HERE/compare_outputs.py" "$WORK/local" "$WORK/local-again" "${noise[@]}" >&2 ||
        fail "two local runs differ beyond rtol $NOISE_RTOL, atol $NOISE_ATOL: cannot tell Slurm from noise"
    python "$HERE/compare_outputs.py" "$WORK/slurm" "$WORK/local" "${noise[@]}" >&2 ||
        fail "Slurm and local outputs differ beyond the run-to-run noise (rtol $NOISE_RTOL, atol $NOISE_ATOL)"
    log "Slurm and local outputs are equal within rtol $NOISE_RTOL, atol $NOISE_ATOL (not bit for bit)"
}

main() {
    trap cleanup EXIT
    start_slurm
    snapshot_repo "$WORK/slurm"
    cp -a "$WORK/slurm" "$WORK/local"
    run_on_slurm
    python "$HERE/verify_sbatch.py" "$WORK/slurm-run.log" "$WORK/slurm" ||
        fail "the jobs did not all go through sbatch (output: $WORK/slurm-run.log)"
    run_locally
    # resources/ holds the workflow's upstream outputs (synthetic corpus, demo encoder) if any.
    local subdirs=(results)
    [[ -d $WORK/slurm/resources ]] && subdirs=(resources results)
    if ! python "$HERE/compare_outputs.py" "$WORK/slurm" "$WORK/local" --subdirs "${subdirs[@]}"; then
        explain_difference "${subdirs[@]}"
        within_noise "${subdirs[@]}"
    fi
    log "PASSED in $((SECONDS - TEST_START)) s"
}

main "$@"
