#!/usr/bin/env bash
# Memory of the NetCDF dumps at 10 M atoms (issue 21): bench/dump/in.dump with n = 136 (10,061,824 atoms) on
# 2 ranks, without a dump, with `netcdf/mpiio` (each rank writes its own rows) and with `netcdf` (gathered on
# rank 0); the peak RSS of each rank from /usr/bin/time. What a dump adds per rank, divided by that rank's atoms
# (mpiio) or by all atoms (serial, rank 0), is its memory per atom. Writes bench/dump/RESULTS-memory.md (or
# $RESULTS). Usage: bench/dump/memory.sh [N] (after `make build`; about 8 minutes on 2 vCPUs, 5 GB of memory).
set -euo pipefail
cd "$(dirname "$0")"
n=${1:-136}
tessera=$PWD/../../.build/release/tessera
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 OMP_NUM_THREADS=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp in.dump "$work/"
declare -A dumps=(
  [none]=""
  [netcdf-mpiio]="dump d all netcdf/mpiio 1 out.nc id type x y z vx vy vz fx fy fz"
  [netcdf]="dump d all netcdf 1 out.nc id type x y z vx vy vz fx fy fz"
)
atoms=$((4 * n * n * n))
declare -A rss
for style in none netcdf-mpiio netcdf; do
  echo "${dumps[$style]}" > "$work/dump.in"
  (cd "$work" && rm -f out.nc && mpirun -np 2 /usr/bin/time -f "maxrss_kb %M" "$tessera" run in.dump -var n "$n" --log none > run.txt 2>&1)
  # Rank order of the two lines is not guaranteed: the larger is rank 0's for the gathered dump.
  read -r -a kb <<< "$(grep -o 'maxrss_kb [0-9]*' "$work/run.txt" | awk '{print $2}' | sort -n | tr '\n' ' ')"
  rss[$style]="${kb[0]} ${kb[1]}"
  echo "$style: ${kb[*]} KB"
done
read -r none_lo none_hi <<< "${rss[none]}"
read -r mpiio_lo mpiio_hi <<< "${rss[netcdf-mpiio]}"
read -r serial_lo serial_hi <<< "${rss[netcdf]}"
mpiio_per_atom=$(( (mpiio_hi - none_hi) * 1024 / (atoms / 2) ))
serial_per_atom=$(( (serial_hi - none_hi) * 1024 / atoms ))
{
  echo "# NetCDF dump memory at $atoms atoms"
  echo
  echo "Written by \`bench/dump/memory.sh $n\` on $(date -u +%F) at $(git rev-parse --short HEAD): bench/dump/in.dump, 2 ranks"
  echo "($((atoms / 2)) atoms each), fields id type x y z vx vy vz fx fy fz (float32, $(( (atoms * 44) / 1000000 )) MB per frame)."
  echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc --all) vCPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo "| dump | peak RSS per rank (MiB, smaller / larger) | added by the dump (MiB, larger rank) | bytes per atom |"
  echo "| --- | ---: | ---: | ---: |"
  echo "| none | $((none_lo / 1024)) / $((none_hi / 1024)) | | |"
  echo "| netcdf/mpiio | $((mpiio_lo / 1024)) / $((mpiio_hi / 1024)) | $(( (mpiio_hi - none_hi) / 1024 )) | $mpiio_per_atom per own atom |"
  echo "| netcdf | $((serial_lo / 1024)) / $((serial_hi / 1024)) | $(( (serial_hi - none_hi) / 1024 )) | $serial_per_atom per atom of the system (rank 0) |"
  echo
  echo "netcdf/mpiio adds memory in proportion to each rank's own atoms (the frame's packed transfer form and its"
  echo "id-sorted columns), never to the system's: at 10 M atoms on 2 ranks each rank holds only its half. The"
  echo "serial netcdf style gathers the frame on rank 0, whose extra memory grows with the whole system."
} > "${RESULTS:-RESULTS-memory.md}"
cat "${RESULTS:-RESULTS-memory.md}"
