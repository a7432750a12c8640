#!/usr/bin/env bash
# Model deviation benchmark (issue 7): the cost of an MD step of fcc copper with the ensemble's
# deviation written every step (pair_style deepmd M1 … M4 out_freq 1), relative to the same step
# with the first model alone, uncompressed and with `compress` (every model tabulated at load).
# Three ensembles:
#   mixed  : cu_se_e2_a driving + the three small models of inputs/models/cu_ensemble (the tested ensemble)
#   4×same : four copies of cu_se_e2_a (four equally expensive models)
#   4×same, devi_precision float32: the same, the three further models in float32 (the driving one float64)
# Each ensemble run's summary line gives the driving model's evaluation time D (its neighbour
# selection included), a further model's M and the statistics' X per evaluation; with the loop's time
# outside Pair per step O, S = (D − M) + X + O is what the four models share (neighbour list, ghosts,
# the selection made once and reused, statistics, integration), and (S + 4M)/(S + M) the ratio they
# imply: ≤ 3.2× needs S ≥ 0.36 M. D and M come from the same run, so load on the machine shifts them alike.
# Every run is repeated REPEATS times, the configurations interleaved, and the fastest repeat kept
# (other jobs on a shared machine only ever add time).
# Usage (after `make build`): bench/devi/run.sh [CELLS (default 10: 4,000 atoms)] [STEPS (default 3)] [RANKS (default 1)] [REPEATS (default 3)]
# Prints the loop times and ratios and writes bench/devi/RESULTS.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cells=${1:-10}
steps=${2:-3}
ranks=${3:-1}
repeats=${4:-3}
bin=${TESSERA_BIN:-$repo/.build/release/tessera}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
m=$repo/inputs/models
base=$m/cu_se_e2_a/cu_se_e2_a.dp
small=("$m/cu_ensemble/cu_ens1.dp" "$m/cu_ensemble/cu_ens2.dp" "$m/cu_ensemble/cu_ens3.dp")
# min_nbor_dist of the copper training data, as dp compress recorded it (the small models' data is the same).
compress="compress min_nbor_dist 2.0129867224877644"

run_deck() {  # NAME KEYWORDS MODELS…: the run's output in $work/NAME.out, its loop time printed
  local name=$1 keywords=$2
  shift 2
  cat > "$work/in.bench" <<DECK
units metal
atom_style atomic
lattice fcc 3.615
region box block 0 $cells 0 $cells 0 $cells
create_box 1 box
create_atoms 1 box
mass 1 63.546
pair_style deepmd $* $( [[ $# -gt 1 ]] && echo "out_freq 1 out_file $work/devi.out" ) $keywords
pair_coeff * * Cu
velocity all create 900 4928459
neighbor 1.0 bin
neigh_modify every 10 delay 0 check yes
timestep 0.001
fix 1 all nve
thermo $steps
run $steps
DECK
  (cd "$work" && mpirun -np "$ranks" "$bin" run in.bench --log none) > "$work/try.out"
  local time
  time=$(awk '/^Loop time of/ {print $4}' "$work/try.out")
  # Keep the fastest repeat's output.
  if [[ ! -f "$work/$name.out" ]] || awk -v a="$time" -v b="${t[$name]}" 'BEGIN {exit !(a < b)}'; then
    mv "$work/try.out" "$work/$name.out"
    t[$name]=$time
  fi
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A t
for _ in $(seq "$repeats"); do
  for kind in plain compressed; do
    keywords=$([[ $kind == compressed ]] && echo "$compress" || true)
    run_deck "$kind-one" "$keywords" "$base"
    run_deck "$kind-same" "$keywords" "$base" "$base" "$base" "$base"
    run_deck "$kind-mixed" "$keywords" "$base" "${small[@]}"
    run_deck "$kind-same32" "$keywords devi_precision float32" "$base" "$base" "$base" "$base"
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
atoms=$((4 * cells * cells * cells))

rows() {
  for kind in plain compressed; do
    local one=${t[$kind-one]} same=${t[$kind-same]} mixed=${t[$kind-mixed]} same32=${t[$kind-same32]}
    echo "| $kind | 1 model (cu_se_e2_a) | $one | 1.00 |"
    echo "| $kind | cu_se_e2_a + 3 small cu_ensemble models | $mixed | $(ratio "$mixed" "$one") |"
    echo "| $kind | 4 × cu_se_e2_a | $same | $(ratio "$same" "$one") |"
    echo "| $kind | 4 × cu_se_e2_a, \`devi_precision float32\` | $same32 | $(ratio "$same32" "$one") |"
  done
}
# The summary line: "Model deviation: N evaluations; per evaluation (s, mean over ranks): driving model D
# (…), further models M each, statistics X".
further() { sed -n 's/.*driving model \([0-9.]*\) .*further models \([0-9.]*\) each, statistics \([0-9.]*\).*/\1 \2 \3/p' "$work/$1.out"; }
pair_time() { awk -F'|' '/^Pair / {print $3}' "$work/$1.out"; }
shares() {
  for kind in plain compressed; do
    read -r driving m statistics < <(further "$kind-same")
    read -r _ small_m _ < <(further "$kind-mixed")
    awk -v k="$kind" -v t="${t[$kind-same]}" -v pair="$(pair_time "$kind-same")" -v n="$steps" -v d="$driving" \
        -v m="$m" -v x="$statistics" -v sm="$small_m" 'BEGIN {
      s = d - m + x + (t - pair) / n
      printf "| %s | %.3f | %.3f | %.4f | %.3f | %.3f | %.2f | %.3f |\n", k, d, m, x, s, s / m, (s + 4 * m) / (s + m), sm }'
  done
}
report=$(cat <<TXT
# Model deviation benchmark

$(date -u +%Y-%m-%d), $(nproc --all) vCPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $atoms atoms, $steps steps, $ranks rank(s), deviation every step, fastest of $repeats repeats.
Load average before and after: $load_before / $load_after (other jobs share these vCPUs: the times are rough).
\`compressed\`: \`pair_style deepmd … $compress\`, every model of the ensemble tabulated at load.
\`devi_precision float32\`: the three further models' networks (and tables) in float32, the driving model in float64; the deviation statistics stay within 1e-5 relative of the float64 ensemble's (ModelDeviationTests).

| embedding | ensemble | loop time (s) | relative to 1 model |
| --- | --- | ---: | ---: |
$(rows)

Shared and per-model cost per step of the 4 × cu_se_e2_a runs (s), from the run's \`Model deviation:\`
summary line: the driving model's evaluation D (its neighbour selection included), a further model's
M (embedding, contraction, fitting network, backward pass into its own force array) and the
statistics X (reverse communication of the further models' ghost forces, deviations, reductions, the
row); S = (D − M) + X + (loop time outside Pair per step) is what the models share (neighbour list,
ghosts, the selection made once and reused, statistics, integration). The target ≤ 3.2× needs
S/M ≥ 0.36. Last column: one small cu_ensemble model's M (from the mixed run).

| embedding | D | M | X | S | S/M | (S + 4M)/(S + M) | small model's M |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
$(shares)

## Why four full copper models cannot reach 3.2×

Per atom of fcc copper (78 neighbours within r_c = 6 Å, sel 112, M1 = 100, M2 = 16, fitting
1600 → 240 → 240 → 240 → 1), floating-point operations of one model:

| part | plain | compressed | shared by models with the same r_c, r_s, sel, type map? |
| --- | ---: | ---: | --- |
| neighbour selection (distances to ~134 list entries, sort of 78) | ~1.5 k + sort | same | yes: done once, slots reused |
| geometry: r, \|r\|, s(r), ds/dr per neighbour (forward and backward) | ~8 k | ~8 k | yes, but ≤ 1.4 % (plain) and ≤ 3.9 % (compressed) of a step (perf: the whole of \`describe\` and of \`differentiate\` outside the table loop, per-model normalisation and force scatter included) |
| R̃ normalised by the model's davg/dstd, table interval lookup | ~1 k | ~2 k | no: davg/dstd and table bounds are per model |
| embedding G, dG/ds (network 1 → 25 → 50 → 100, with its tangent; or the quintic tables fused with the contraction and its gradient) | 1.96 M | 0.44 M | no: per-model weights |
| contraction T = R̃ᵀG, D = TᵀT<, their gradients | 0.23 M | (in the line above) + 0.04 M | no |
| fitting network and its gradient | 2.0 M | 2.0 M | no |
| total M | ≈ 4.2 M | ≈ 2.5 M | |

By operations, S is under 1 % of M; by time (the selection is a branchy sort) S/M is a few hundredths
(0.01 to 0.09 in the runs made for this file). Sharing every exactly shareable part, the geometry
included, moves at most 1.4 % (plain) or 3.9 % (compressed) of M into S: S/M stays below 0.1 and 0.15,
so (S + 4M)/(S + M) ≥ 3.7 and ≥ 3.6. Reaching 3.2× needs S/M ≥ 0.36, that is shared work of a third of a model: the
fitting network and the embedding alone are over 95 % of M and are different in every model. With exact
evaluation, four full models cost at least about 3.6× one; what reaches the target is a cheaper
ensemble (the tested cu_se_e2_a + 3 small models) or a deviation written every N steps (1 + 3/N for
four equal models).
TXT
)
echo "$report"
echo "$report" > "$here/RESULTS.md"
