#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for trying the batch templates (and for SlurmTests):
# a private munged, slurmctld and slurmd running as root, every file (key, sockets, state, spool,
# logs, slurm.conf) under DIR, ports chosen free at start. Needs Debian's slurm-wlm and munge.
#   cluster/slurm/local-cluster.sh start DIR [CPUS]   prints `export SLURM_CONF=DIR/slurm.conf`; waits until the node is idle
#     CPUS (default: the machine's) may exceed the cores, so that several small jobs share them
#   cluster/slurm/local-cluster.sh stop DIR    cancels every job, stops the daemons, waits until they are gone
set -euo pipefail
action=${1:?usage: local-cluster.sh start|stop DIR}
dir=$(mkdir -p "${2:?usage: local-cluster.sh start|stop DIR}" && cd "$2" && pwd)
cpus=${3:-$(nproc)}
export SLURM_CONF=$dir/slurm.conf

# A port nobody listens on (the kernel's ephemeral range is avoided).
free_port() {
  local port
  while true; do
    port=$((20000 + RANDOM % 20000))
    ss -Htln "sport = :$port" | grep -q . || { echo "$port"; return; }
  done
}

stop() {
  if [[ -f $SLURM_CONF ]]; then scancel --full --quiet --user=root 2>/dev/null || true; fi
  for daemon in slurmd slurmctld munged; do
    local pidfile=$dir/$daemon.pid
    [[ -f $pidfile ]] || continue
    local pid
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$pidfile"
  done
}

case $action in
start)
  for tool in munged slurmctld slurmd sbatch; do
    command -v "$tool" >/dev/null || { echo "local-cluster.sh: $tool is missing (apt-get install slurm-wlm munge)" >&2; exit 1; }
  done
  stop
  mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log"
  chmod 700 "$dir/munge"
  [[ -f $dir/munge/key ]] || { head -c 1024 /dev/urandom > "$dir/munge/key"; chmod 400 "$dir/munge/key"; }
  # The daemons get no terminal, pipe or other descriptor of ours: a caller waiting for this script
  # (or for EOF on its output) would wait for the daemons otherwise.
  for fd in $(ls /proc/$$/fd); do (( fd > 2 )) && eval "exec $fd>&-" 2>/dev/null || true; done
  munged --force --key-file="$dir/munge/key" --socket="$dir/munge/socket" --pid-file="$dir/munged.pid" \
    --log-file="$dir/log/munged.log" --seed-file="$dir/munge/seed" </dev/null >/dev/null 2>&1
  host=$(hostname -s)
  cat > "$SLURM_CONF" <<CONF
ClusterName=tessera-local
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/socket
CredType=cred/munge
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=pmix
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
KillWait=10
# The configured CPUs count, not the detected cores (so CPUS may oversubscribe them).
SlurmdParameters=config_overrides
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
  slurmctld </dev/null >/dev/null 2>&1
  slurmd </dev/null >/dev/null 2>&1
  for _ in $(seq 150); do
    [[ $(sinfo --noheader --format=%t 2>/dev/null) == idle ]] && { echo "export SLURM_CONF=$SLURM_CONF"; exit 0; }
    sleep 0.2
  done
  echo "local-cluster.sh: the node did not become idle; see $dir/log" >&2
  stop
  exit 1
  ;;
stop) stop ;;
*) echo "usage: local-cluster.sh start|stop DIR" >&2; exit 2 ;;
esac
