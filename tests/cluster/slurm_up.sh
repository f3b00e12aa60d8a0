#!/usr/bin/env bash
# Bring up a real single-node Slurm cluster on this host for the CI cluster test.
#
#   bash tests/cluster/slurm_up.sh        # then: export SLURM_CONF=$ASRSER_SLURM_STATE/slurm.conf
#
# Installs Debian's slurm-wlm and munge when missing (needs root and apt-get), writes a slurm.conf
# for this host (its CPUs and memory) in a state directory, starts munged (unless one already
# answers), slurmctld and slurmd as daemons and waits until the node is idle. The pid of every
# daemon started here is recorded under $STATE_DIR/started/; slurm_down.sh stops exactly those.
#
# /etc/slurm/slurm.conf becomes a symlink to the state directory's slurm.conf (removed again by
# slurm_down.sh): the Slurm executor's job step strips SLURM_CONF from the environment of the
# `srun` it runs inside each job, which then only finds the configuration at the default path.
# A machine that already has its own /etc/slurm/slurm.conf is left alone: the test skips there.
#
# Exit status: 0 cluster up; 77 cannot run here (not root, no apt-get): the caller skips;
# anything else is a failure.
set -euo pipefail

STATE_DIR=${ASRSER_SLURM_STATE:-/tmp/asrser-slurm}
CTLD_PORT=${ASRSER_SLURMCTLD_PORT:-6817}
SLURMD_PORT=${ASRSER_SLURMD_PORT:-6818}
PARTITION=${ASRSER_SLURM_PARTITION:-ci}
# Memory kept back from Slurm for the OS and the snakemake process that submits the jobs.
HEADROOM_MB=${ASRSER_SLURM_HEADROOM_MB:-1024}
SYSTEM_CONF=/etc/slurm/slurm.conf
SKIP_STATUS=77
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

log() { echo "[slurm_up] $*" >&2; }
die() {
    echo "[slurm_up] ERROR: $*" >&2
    exit 1
}
skip() {
    echo "SKIP: single-node Slurm cannot run here: $*"
    exit "$SKIP_STATUS"
}

# Poll a command until it succeeds, at most $1 seconds.
wait_for() {
    local seconds=$1
    shift
    local deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || return 1
        sleep 0.5
    done
}

install_packages() {
    local missing=()
    for tool in munged munge unmunge slurmctld slurmd sbatch squeue sinfo scontrol srun; do
        command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
    done
    ((${#missing[@]} == 0)) && return 0
    command -v apt-get >/dev/null 2>&1 || skip "no apt-get to install slurm-wlm and munge (missing: ${missing[*]})"
    log "installing slurm-wlm and munge (missing: ${missing[*]})"
    local started=$SECONDS
    apt-get update -q >"$STATE_DIR/apt.log" 2>&1 ||
        die "apt-get update failed, see $STATE_DIR/apt.log"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        slurm-wlm munge >>"$STATE_DIR/apt.log" 2>&1 ||
        die "apt-get install slurm-wlm munge failed, see $STATE_DIR/apt.log"
    log "installed in $((SECONDS - started)) s"
}

munge_works() { { munge -n | unmunge; } >/dev/null 2>&1; }

# Record a daemon this script started, so that slurm_down.sh stops it and nothing else.
record_started() {
    local name=$1 pid_file=$2
    wait_for 30 test -s "$pid_file" || die "$name wrote no pid file $pid_file"
    local pid
    pid=$(<"$pid_file")
    kill -0 "$pid" 2>/dev/null || die "$name (pid $pid from $pid_file) is not running"
    echo "$pid" >"$STATE_DIR/started/$name.pid"
    log "$name running, pid $pid"
}

start_munge() {
    if munge_works; then
        log "munged already running: reusing it (it will not be stopped)"
        return 0
    fi
    local key=/etc/munge/munge.key
    if [[ ! -s $key ]]; then
        log "creating munge key $key"
        install -d -m 0700 -o munge -g munge /etc/munge
        mungekey --create --keyfile="$key" 2>/dev/null ||
            dd if=/dev/urandom of="$key" bs=1024 count=1 status=none
        chown munge:munge "$key"
        chmod 0400 "$key"
    fi
    install -d -m 0755 -o munge -g munge /run/munge
    install -d -m 0700 -o munge -g munge /var/log/munge /var/lib/munge
    rm -f /run/munge/munged.pid
    # munged refuses to run as root without --force; run it as its own user like the service does.
    runuser -u munge -- munged || die "munged did not start (see /var/log/munge/munged.log)"
    record_started munged /run/munge/munged.pid
    wait_for 20 munge_works || die "munged is running but munge -n | unmunge fails"
}

write_slurm_conf() {
    local node cpus mem_total_mb real_mb
    node=$(hostname -s)
    cpus=$(nproc)
    mem_total_mb=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024))
    real_mb=$((mem_total_mb - HEADROOM_MB))
    ((real_mb >= 1000)) || die "only ${mem_total_mb} MB memory: too little for a Slurm node"
    cat >"$STATE_DIR/slurm.conf" <<EOF
# Single-node CI cluster written by tests/cluster/slurm_up.sh; not a production configuration.
ClusterName=asrser-ci
SlurmctldHost=${node}(127.0.0.1)
SlurmctldPort=${CTLD_PORT}
SlurmdPort=${SLURMD_PORT}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
# cgroups are not usable in every container: track job processes without them.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# No slurmdbd: the executor plugin then queries job states with squeue, which sees finished
# jobs for MinJobAge seconds (the plugin wants at least 3 x its first status-check delay; an
# hour also lets the test check every job of its run).
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MinJobAge=3600
# A node that comes back from a restart is usable again without an administrator.
ReturnToService=2
# SIGTERM at the time limit, SIGKILL KillWait seconds later (what the preemption handling expects).
KillWait=30
InactiveLimit=0
MailProg=/bin/true
StateSaveLocation=${STATE_DIR}/ctld
SlurmdSpoolDir=${STATE_DIR}/spool
SlurmctldPidFile=${STATE_DIR}/run/slurmctld.pid
SlurmdPidFile=${STATE_DIR}/run/slurmd.pid
SlurmctldLogFile=${STATE_DIR}/log/slurmctld.log
SlurmdLogFile=${STATE_DIR}/log/slurmd.log
NodeName=${node} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${real_mb} State=UNKNOWN
PartitionName=${PARTITION} Nodes=${node} Default=YES MaxTime=INFINITE State=UP
EOF
    log "slurm.conf: node ${node}, ${cpus} CPUs, RealMemory ${real_mb} MB, partition ${PARTITION}"
}

# Point the default configuration path at ours (see the header); refuse a foreign one.
link_system_conf() {
    local ours=$STATE_DIR/slurm.conf
    if [[ -L $SYSTEM_CONF && $(readlink "$SYSTEM_CONF") == "$ours" ]]; then
        return 0
    fi
    if [[ -e $SYSTEM_CONF || -L $SYSTEM_CONF ]]; then
        skip "$SYSTEM_CONF exists: this machine has its own Slurm configuration, not replacing it"
    fi
    mkdir -p "$(dirname "$SYSTEM_CONF")"
    ln -s "$ours" "$SYSTEM_CONF"
    echo "$SYSTEM_CONF" >"$STATE_DIR/started/conf-link"
    log "linked $SYSTEM_CONF -> $ours"
}

port_free() { ! (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

node_state() { sinfo --noheader --nodes "$NODE" --format %t 2>/dev/null | head -n 1; }

# The node is usable once it is idle (or already running jobs); a node that comes up down or
# drained (e.g. after an unclean stop) is resumed.
wait_node_idle() {
    local deadline=$((SECONDS + 90)) state
    while ((SECONDS < deadline)); do
        state=$(node_state)
        case $state in
            idle | mix | alloc) return 0 ;;
            down* | drain* | drng* | fail*)
                log "node $NODE is '$state': resuming it"
                scontrol update nodename="$NODE" state=resume >/dev/null 2>&1 || true
                ;;
        esac
        sleep 1
    done
    log "node $NODE still '$(node_state)' after 90 s"
    sinfo -R >&2 || true
    return 1
}

main() {
    [[ $(id -u) -eq 0 ]] || skip "not root (installing and running slurmd needs root)"
    mkdir -p "$STATE_DIR"
    install_packages

    export SLURM_CONF=$STATE_DIR/slurm.conf
    NODE=$(hostname -s)
    # A cluster left running by an earlier call is reused when it answers; otherwise whatever
    # that call started is stopped before starting afresh.
    if compgen -G "$STATE_DIR/started/slurm*.pid" >/dev/null; then
        if scontrol ping 2>/dev/null | grep -q UP && wait_node_idle; then
            log "cluster from an earlier run is up: reusing it"
            echo "export SLURM_CONF=$SLURM_CONF"
            return 0
        fi
        bash "$HERE/slurm_down.sh"
    fi
    rm -rf "$STATE_DIR/ctld" "$STATE_DIR/spool" "$STATE_DIR/run" "$STATE_DIR/log"
    mkdir -p "$STATE_DIR"/{ctld,spool,run,log,started}
    link_system_conf

    local started=$SECONDS
    for port in "$CTLD_PORT" "$SLURMD_PORT"; do
        port_free "$port" || die "port $port is in use (another Slurm?); set ASRSER_SLURMCTLD_PORT/ASRSER_SLURMD_PORT"
    done
    start_munge
    write_slurm_conf
    # -c: start from an empty job state, never from an old run's queue.
    slurmctld -c || die "slurmctld did not start, see $STATE_DIR/log/slurmctld.log"
    record_started slurmctld "$STATE_DIR/run/slurmctld.pid"
    wait_for 30 bash -c 'scontrol ping | grep -q UP' ||
        die "slurmctld does not answer, see $STATE_DIR/log/slurmctld.log"
    slurmd || die "slurmd did not start, see $STATE_DIR/log/slurmd.log"
    record_started slurmd "$STATE_DIR/run/slurmd.pid"
    wait_node_idle || die "node never became idle, see $STATE_DIR/log/slurmd.log and slurmctld.log"
    log "Slurm up in $((SECONDS - started)) s: $(sinfo --noheader --format '%P %D %t %c CPUs %m MB')"
    echo "export SLURM_CONF=$SLURM_CONF"
}

main "$@"
