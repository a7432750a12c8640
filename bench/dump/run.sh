#!/usr/bin/env bash
# Dump throughput of Tessera (issues 5 and 21): the LAMMPS `custom` text and binary dumps, extended XYZ,
# H5MD (parallel HDF5, with and without deflate) and AMBER NetCDF (`netcdf` through rank 0, `netcdf/mpiio`
# collectively through PnetCDF, LAMMPS's float32 default and `double yes`) at 1 M atoms on 1 and 2 ranks. Each case runs bench/dump/in.dump; the
# per-frame time is the Output row's max time of the run's timing breakdown over its 2 timed frames,
# the bytes per frame the file size over its 3 frames. Writes bench/dump/RESULTS.md (or $RESULTS).
# Usage: bench/dump/run.sh [N]   (N: lattice cells per side, 63 → 1,000,188 atoms; after `make build`)
set -euo pipefail
cd "$(dirname "$0")"
n=${1:-63}
tessera=$PWD/../../.build/release/tessera
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 OMP_NUM_THREADS=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

declare -A dumps=(
  [custom]="dump d all custom 1 out.txt id type x y z vx vy vz fx fy fz"
  [extxyz]="dump d all extxyz 1 out.xyz"
  [h5md]="dump d all h5md 1 out.h5 position velocity force species image"
  [h5md-deflate]="dump d all h5md 1 out.h5 position velocity force species image
dump_modify d compression_level 1"
  [custom-binary]="dump d all custom 1 out.bin id type x y z vx vy vz fx fy fz"
  [netcdf]="dump d all netcdf 1 out.nc id type x y z vx vy vz fx fy fz"
  [netcdf-mpiio]="dump d all netcdf/mpiio 1 out.nc id type x y z vx vy vz fx fy fz"
  [netcdf-mpiio-double]="dump d all netcdf/mpiio 1 out.nc id type x y z vx vy vz fx fy fz ix iy iz
dump_modify d double yes"
)
# STYLES (a space-separated subset of the names above) limits the cases run; RESULTS names the file written.
read -r -a order <<< "${STYLES:-custom custom-binary extxyz h5md h5md-deflate netcdf netcdf-mpiio netcdf-mpiio-double}"
# The issue's target: an H5MD frame every 100 steps costs under 5 % of a Deep Potential step. The DP step is
# bench/dp's compressed copper figure (the fastest model, so the strictest test), in s/step/atom on 1 rank,
# assumed to halve on 2 ranks.
dp_step_per_atom=${DP_STEP_PER_ATOM:-1.6e-4}
rows=()
target=()
declare -A h5md_seconds
nc_target=()
for ranks in 1 2; do
  for style in "${order[@]}"; do
    rm -f "$work"/out.*
    echo "${dumps[$style]}" > "$work/dump.in"
    log=$(cd "$work" && mpirun --oversubscribe -np $ranks "$tessera" run "$OLDPWD/in.dump" -var n $n --log none)
    atoms=$(awk '/^Loop time of/ { print $NF == "atoms" ? $(NF-1) : $NF; exit }' <<< "$log")
    seconds=$(awk -F'|' '/^Output/ { gsub(/ /, "", $4); print $4 / 2; exit }' <<< "$log")
    bytes=$(( $(du -b "$work"/out.* | awk '{ s += $1 } END { print s }') / 3 ))
    rows+=("| $style | $ranks | $atoms | $(awk -v b=$bytes 'BEGIN { printf "%.1f", b / 1e6 }') | $seconds | $(awk -v b=$bytes -v t=$seconds 'BEGIN { printf "%.3f", b / t / 1e9 }') | $(awk -v a=$atoms -v t=$seconds 'BEGIN { printf "%.3g", a / t }') |")
    echo "${rows[-1]}"
    if [[ $style == h5md ]]; then
      h5md_seconds[$ranks]=$seconds
      target+=("$ranks rank(s): $(awk -v t=$seconds -v a=$atoms -v d=$dp_step_per_atom -v r=$ranks 'BEGIN { printf "%.2g %%", 100 * (t / 100) / (d * a / r) }') of a DP step")
    fi
    if [[ $style == netcdf-mpiio* ]]; then
      nc_target+=("$style on $ranks rank(s): $(awk -v t=$seconds -v a=$atoms -v d=$dp_step_per_atom -v r=$ranks 'BEGIN { printf "%.2g %%", 100 * (t / 100) / (d * a / r) }') of a DP step$( [[ -n ${h5md_seconds[$ranks]:-} ]] && awk -v t=$seconds -v h=${h5md_seconds[$ranks]} 'BEGIN { printf ", %.2f× H5MD'"'"'s time per frame", t / h }')")
    fi
  done
done

cpu=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
{
  echo "# Dump throughput"
  echo
  echo "Written by \`bench/dump/run.sh\` on $(date -u +%Y-%m-%d): an fcc LJ solid (\`bench/dump/in.dump\`), one frame per step,"
  echo "2 timed frames per case; time per frame is the max over ranks of the run's Output time. Machine: $cpu,"
  echo "$(nproc --all) vCPUs, load average at the start: $(cut -d' ' -f1-3 /proc/loadavg); files on $(df -T "$work" | awk 'NR == 2 { print $2 }')."
  echo
  echo "| dump | ranks | atoms | MB per frame | s per frame | GB/s | atoms/s |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Target (issue 5): an H5MD frame every 100 steps under 5 % of a Deep Potential step. With the DP step at"
  echo "$dp_step_per_atom s/step/atom (bench/dp, compressed copper, 1 rank; halved for 2 ranks), one frame per 100 steps costs"
  echo "$(IFS=';'; echo "${target[*]}" | sed 's/;/, /g')."
  if (( ${#nc_target[@]} )); then
    echo
    echo "Target (issue 21): netcdf/mpiio within 2× of H5MD's time per frame, and a frame every 100 steps under 1 % of a"
    echo "Deep Potential step (the same DP step): $(IFS=';'; echo "${nc_target[*]}" | sed 's/;/; /g')."
  fi
} > "${RESULTS:-RESULTS.md}"
cat "${RESULTS:-RESULTS.md}"
