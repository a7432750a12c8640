#!/usr/bin/env bash
# A multi-host MPI run on one machine: HOSTS network namespaces (test hosts h1…hN, each with a
# veth link to a bridge in a switch namespace, addresses 10.231.0.1… inside them only), Open MPI
# launching ranks on them over TCP with a hostfile (remote launcher: launch-agent.sh), the LJ
# melt and the copper Deep Potential deck run across them and compared with a single-host run
# of the same rank count, every thermo number to 1e-10 relative. Everything it creates is
# removed on exit, success or not.
# Usage (root): cluster/netns/run.sh [HOSTS (2)] [RANKS_PER_HOST (1)]
# Exit status: 0 equal, 1 different or failed, 77 the kernel refuses network namespaces here.
set -euo pipefail
hosts=${1:-2}
per_host=${2:-1}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
tessera=${TESSERA_BINARY:-$repo/.build/release/tessera}
ranks=$((hosts * per_host))
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
export TESSERA_NETNS_PREFIX=tessera$$
prefix=$TESSERA_NETNS_PREFIX
switch=$prefix-switch
work=$(mktemp -d)

[[ $(id -u) == 0 ]] || { echo "cluster/netns/run.sh: network namespaces need root" >&2; exit 1; }
[[ -x $tessera ]] || { echo "cluster/netns/run.sh: no Tessera binary at $tessera (make build, or set TESSERA_BINARY)" >&2; exit 1; }
for tool in ip unshare mpirun; do
  command -v $tool >/dev/null || { echo "cluster/netns/run.sh: $tool not found (Debian: iproute2, util-linux, openmpi-bin)" >&2; exit 1; }
done

cleanup() {
  for ((i = 1; i <= hosts; i++)); do
    ip netns del "$prefix-h$i" 2>/dev/null || true
    rm -rf "/etc/netns/$prefix-h$i"
  done
  ip netns del "$switch" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

if ! ip netns add "$switch" 2>"$work/netns.err"; then
  echo "cluster/netns/run.sh: SKIP: the kernel refuses network namespaces here ($(cat "$work/netns.err"))" >&2
  exit 77
fi
ip -n "$switch" link add br0 type bridge
ip -n "$switch" link set br0 up
: > "$work/hostfile"
for ((i = 1; i <= hosts; i++)); do
  ns=$prefix-h$i
  ip netns add "$ns"
  ip link add "$prefix-$i" type veth peer name eth0 netns "$ns"
  ip link set "$prefix-$i" netns "$switch"
  ip -n "$switch" link set "$prefix-$i" master br0 up
  ip -n "$ns" addr add "10.231.0.$i/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
  echo "h$i slots=$per_host" >> "$work/hostfile"
done
# Name resolution inside the hosts: ip netns exec mounts /etc/netns/NS/hosts over /etc/hosts.
for ((i = 1; i <= hosts; i++)); do
  mkdir -p "/etc/netns/$prefix-h$i"
  { echo "127.0.0.1 localhost"; for ((j = 1; j <= hosts; j++)); do echo "10.231.0.$j h$j"; done; } > "/etc/netns/$prefix-h$i/hosts"
done

mpi_across=(--hostfile "$work/hostfile" -np "$ranks" --map-by node
  --mca plm_rsh_agent "$here/launch-agent.sh" --mca btl tcp,self
  --mca btl_tcp_if_include 10.231.0.0/24 --mca oob_tcp_if_include 10.231.0.0/24)

thermo_rows() { awk '/^ *Step/ { on = 1; next } /^Loop time/ { on = 0 } on && $1 ~ /^[0-9]+$/'; }

# compare NAME FILE_A FILE_B: every number equal to 1e-10 relative (1e-10 absolute near zero).
compare() {
  if [[ ! -s $2 ]] || ! paste -d'|' "$2" "$3" | awk -F'|' -v name="$1" '
    { n = split($1, a, " "); m = split($2, b, " ")
      if (n != m) { print name ": row " NR " has " n " and " m " columns"; bad = 1; next }
      for (k = 1; k <= n; k++) {
        d = a[k] - b[k]; if (d < 0) d = -d
        s = (a[k] < 0 ? -a[k] : a[k]); if (s < 1) s = 1
        if (d > 1e-10 * s) { print name ": row " NR " column " k ": " a[k] " vs " b[k]; bad = 1 }
      } }
    END { if (NR == 0) { print name ": no thermo rows"; bad = 1 }; exit bad }'; then
    echo "FAIL: $1 across $hosts namespace hosts differs from one host" >&2; return 1
  fi
  echo "ok: $1 on $ranks ranks across $hosts namespace hosts equals the single-host run ($(wc -l < "$2") thermo rows)"
}

# run NAME DIR DECK ARGS…: the deck once across the hosts, once on one host, thermo compared.
run_deck() {
  local name=$1 dir=$2 deck=$3; shift 3
  (cd "$dir" && ip netns exec "$prefix-h1" unshare --uts sh -c 'hostname h1 && exec "$@"' sh \
      mpirun "${mpi_across[@]}" "$tessera" run "$deck" --log none "$@") > "$work/$name.across" 2>&1 \
    || { cat "$work/$name.across" >&2; echo "FAIL: $name across the namespace hosts" >&2; return 1; }
  (cd "$dir" && mpirun -np "$ranks" "$tessera" run "$deck" --log none "$@") > "$work/$name.single" 2>&1 \
    || { cat "$work/$name.single" >&2; echo "FAIL: $name on one host" >&2; return 1; }
  thermo_rows < "$work/$name.across" > "$work/$name.across.thermo"
  thermo_rows < "$work/$name.single" > "$work/$name.single.thermo"
  compare "$name" "$work/$name.across.thermo" "$work/$name.single.thermo"
}

# Each rank must run on its own namespace host: the placement, as the ranks see it.
placed=$(ip netns exec "$prefix-h1" unshare --uts sh -c 'hostname h1 && exec "$@"' sh \
  mpirun "${mpi_across[@]}" hostname | sort | uniq -c | awk '{ printf "%s%s×%s", sep, $2, $1; sep = " " }')
echo "ranks placed: $placed"
[[ $(wc -w <<< "$placed") == "$hosts" ]] || { echo "FAIL: ranks did not reach all $hosts hosts" >&2; exit 1; }

run_deck lj "$repo/inputs/lj" in.melt -var n 6
run_deck copper "$repo/inputs/cu" in.cu -var steps 20
