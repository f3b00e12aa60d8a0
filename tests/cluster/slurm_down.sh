#!/usr/bin/env bash
# Stop the daemons tests/cluster/slurm_up.sh started, by the pids it recorded, and nothing else
# (a munged that was already running before slurm_up.sh is left alone); cancel the CI cluster's
# leftover jobs first and remove the /etc/slurm/slurm.conf symlink slurm_up.sh made.
#
#   bash tests/cluster/slurm_down.sh
set -uo pipefail

STATE_DIR=${ASRSER_SLURM_STATE:-/tmp/asrser-slurm}
STARTED=$STATE_DIR/started

log() { echo "[slurm_down] $*" >&2; }

# The recorded pid must still be the daemon we started (pids are reused): compare its name.
is_our_daemon() {
    local pid=$1 name=$2
    [[ -r /proc/$pid/comm ]] && [[ $(</proc/"$pid"/comm) == "$name"* ]]
}

stop_daemon() {
    local name=$1 pid_file=$STARTED/$1.pid pid
    [[ -s $pid_file ]] || return 0
    pid=$(<"$pid_file")
    if ! is_our_daemon "$pid" "$name"; then
        log "$name (pid $pid) is no longer running"
        rm -f "$pid_file"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 40); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.25
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "$name (pid $pid) ignored SIGTERM for 10 s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null
    fi
    log "stopped $name (pid $pid)"
    rm -f "$pid_file"
}

# Jobs still queued or running on this CI cluster (a test that failed half-way) would outlive
# slurmd in their slurmstepd: cancel them while the controller is still ours to ask.
cancel_ci_jobs() {
    [[ -s $STARTED/slurmctld.pid ]] && is_our_daemon "$(<"$STARTED/slurmctld.pid")" slurmctld ||
        return 0
    export SLURM_CONF=$STATE_DIR/slurm.conf
    local jobs
    jobs=$(squeue --noheader --format %i 2>/dev/null | tr '\n' ' ')
    [[ -n ${jobs// /} ]] || return 0
    log "cancelling jobs left on the CI cluster: $jobs"
    # shellcheck disable=SC2086
    scancel $jobs 2>/dev/null
    for _ in $(seq 1 40); do
        [[ -z $(squeue --noheader --states=PENDING,RUNNING,COMPLETING --format %i 2>/dev/null) ]] && return 0
        sleep 0.5
    done
    log "jobs still ending after 20 s: $(squeue --noheader 2>/dev/null | tr '\n' ';')"
}

[[ -d $STARTED ]] || exit 0
cancel_ci_jobs
# slurmd first so it does not report the node down to a controller that is going away;
# munged last because both Slurm daemons authenticate through it while shutting down.
for daemon in slurmd slurmctld munged; do
    stop_daemon "$daemon"
done
if [[ -s $STARTED/conf-link ]]; then
    link=$(<"$STARTED/conf-link")
    if [[ -L $link && $(readlink "$link") == "$STATE_DIR/slurm.conf" ]]; then
        rm -f "$link"
        log "removed $link"
    fi
    rm -f "$STARTED/conf-link"
fi
