#!/usr/bin/env bash
# The trust metric's selection harness (specs/trust.md, sections 8-9): runs every candidate
# design of issue 15 through the same `vouch eval` protocols (P1/P1v with the random and the
# temporal split, P2, P3) on the selection data, and writes one result file per run.
#
# The candidates are options of `vouch eval` (`--evidence-budget`, `--prior`, `--doubt`), so
# this script and one `vouch` binary reproduce every figure of the candidate tables. Nothing
# here is random beyond the protocols' seeds.
#
# Usage: scripts/trust-select.sh OUT_DIR FILE [FILE...]
#   FILE: a SNAP signed network (the selection data: Bitcoin OTC from shared/data, and Bitcoin
#   Alpha, which is not in the repository). VOUCH: the binary (default: a release build in
#   $CARGO_TARGET_DIR or target/, built with --no-default-features).
#   QUICK=1 runs seed 0 only. P2 (`vouch eval sybil`, one seed per run) runs seeds 0-4, one
#   last line per seed in its file.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 2 ]; then
  sed -n '2,16p' "$0"
  exit 2
fi
OUT="$1"
shift
mkdir -p "$OUT"
VOUCH="${VOUCH:-${CARGO_TARGET_DIR:-target}/release/vouch}"
if [ ! -x "$VOUCH" ]; then
  cargo build --release --locked -p vouch-node --no-default-features
fi
SEEDS=()
P2_SEEDS=(0 1 2 3 4)
if [ "${QUICK:-0}" = 1 ]; then
  SEEDS=(--seed 0)
  P2_SEEDS=(0)
fi

# name: options (the first is the metric before issue 15; the last is the adopted one, the
# only one run with the baselines, which do not depend on the candidate)
CANDIDATES=(
  "before: --budget off --prior reached --doubt 0 --flow-evidence true"
  "budget-shared: --budget shared --prior reached --doubt 0 --flow-evidence true"
  "budget-per-sign: --budget per-sign --prior reached --doubt 0 --flow-evidence true"
  "per-sign+typical: --budget per-sign --prior typical --doubt 0 --flow-evidence true"
  "per-sign+typical+doubt-no-flow-evidence: --budget per-sign --prior typical --doubt 1 --flow-evidence false"
  "adopted: --budget per-sign --prior typical --doubt 1 --flow-evidence true"
)

for file in "$@"; do
  data=$(basename "$file" | sed 's/\..*//')
  for c in "${CANDIDATES[@]}"; do
    name="${c%%:*}"
    # shellcheck disable=SC2206
    opts=(${c#*:})
    echo "==> $data $name"
    baselines=(--no-baselines)
    if [ "$name" = adopted ]; then
      baselines=()
    fi
    "$VOUCH" eval signed "$file" "${SEEDS[@]}" "${baselines[@]}" "${opts[@]}" \
      >"$OUT/$data.$name.signed.txt"
    for g in 100 1000; do
      "$VOUCH" eval attack "$file" --attack-edges "$g" "${SEEDS[@]}" "${opts[@]}" \
        >"$OUT/$data.$name.attack-g$g.txt"
      for seed in "${P2_SEEDS[@]}"; do
        "$VOUCH" eval sybil "$file" --attack-edges "$g" --seed "$seed" "${opts[@]}" | tail -n 1
      done >"$OUT/$data.$name.sybil-g$g.txt"
    done
    tail -n 1 "$OUT/$data.$name.signed.txt" "$OUT/$data.$name.attack-g"*.txt
    cat "$OUT/$data.$name.sybil-g"*.txt
  done
done
