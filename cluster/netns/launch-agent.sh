#!/usr/bin/env bash
# Open MPI's remote launcher for the namespace hosts (plm_rsh_agent): called as ssh would be,
# `launch-agent.sh HOST COMMAND…`, it runs COMMAND in HOST's network namespace with HOST as the
# host name (a UTS namespace of its own, so Open MPI sees distinct nodes). The command is one
# shell line, as ssh hands it to the remote shell.
set -euo pipefail
host=$1; shift
prefix=${TESSERA_NETNS_PREFIX:?set by cluster/netns/run.sh}
exec ip netns exec "$prefix-$host" unshare --uts sh -c "hostname $host && exec $*"
