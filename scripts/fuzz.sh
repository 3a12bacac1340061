#!/usr/bin/env bash
# Fuzzing Vouch: builds every cargo-fuzz target of fuzz/ and runs them one at a time.
#
#   scripts/fuzz.sh smoke [SECONDS]       each target for SECONDS (default 4): what .ci/run runs
#   scripts/fuzz.sh campaign [RUNS]       each target for RUNS executions (default 10,000,000),
#                                         niced, one after the other; prints a table of figures
#   scripts/fuzz.sh campaign RUNS T1 T2   only the named targets
#   VOUCH_FUZZ_VC=0                       leave out the targets that need ssi (credential,
#                                         personhood); VOUCH_FUZZ_NO_BUILD=1 skips the build;
#                                         VOUCH_FUZZ_MAX_SECONDS caps each target's time
#
# Targets start from the committed seeds (fuzz/seeds/<target>) and keep what they find in
# fuzz/corpus/<target> (not committed); a crash lands in fuzz/artifacts/<target>/ and stops
# the script with its path: make it a regression (fuzz/regressions/<target>/, replayed by
# `cargo test -p vouch-node fuzz`) before fixing it. Installs cargo-fuzz if it is missing.
# cargo-fuzz needs nightly features; RUSTC_BOOTSTRAP=1 lets the stable toolchain give them.
# Builds without a sanitizer (`-s none`: the code is safe Rust, and the campaign needs the
# speed) but with debug assertions and overflow checks.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE="${1:-smoke}"
shift || true
export RUSTC_BOOTSTRAP=1
export CARGO_TERM_COLOR=never
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --version 0.13.2
TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}/fuzz"
# The targets, from fuzz/Cargo.toml: each [[bin]], and whether it needs a feature (vc).
mapfile -t PLAIN < <(awk '/^\[\[bin\]\]/{if(n!="")print n" "f; n="";f=""} /^name = /{gsub(/"/,"",$3);n=$3} /^required-features/{f="vc"} END{print n" "f}' fuzz/Cargo.toml | awk '$2=="" && $1!="vouch-fuzz"{print $1}')
mapfile -t WITH_VC < <(awk '/^\[\[bin\]\]/{if(n!="")print n" "f; n="";f=""} /^name = /{gsub(/"/,"",$3);n=$3} /^required-features/{f="vc"} END{print n" "f}' fuzz/Cargo.toml | awk '$2=="vc"{print $1}')
FEATURES=()
ALL=("${PLAIN[@]}")
if [ "${VOUCH_FUZZ_VC:-1}" != 0 ]; then
  FEATURES=(--features vc)
  ALL+=("${WITH_VC[@]}")
fi
BUILD=(build -s none --debug-assertions --target-dir "$TARGET_DIR" "${FEATURES[@]}")

# VOUCH_FUZZ_NO_BUILD=1 runs the targets already built (a campaign beside other builds).
[ "${VOUCH_FUZZ_NO_BUILD:-0}" = 1 ] || (cd fuzz && cargo fuzz "${BUILD[@]}")
bin="$TARGET_DIR/x86_64-unknown-linux-gnu/release"

NICE=()
run() { # target, libFuzzer options...
  local t="$1"; shift
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  local seeds=("fuzz/seeds/$t")
  # The state targets grow slow on long inputs: a few dozen objects say enough.
  local max_len=65536
  case "$t" in objects_state) max_len=4096 ;; sync_response) max_len=16384 ;; esac
  [ -d "fuzz/regressions/$t" ] && seeds+=("fuzz/regressions/$t")
  "${NICE[@]}" "$bin/$t" "fuzz/corpus/$t" "${seeds[@]}" -artifact_prefix="fuzz/artifacts/$t/" \
    -timeout=20 -rss_limit_mb=2048 -max_len="$max_len" -print_final_stats=1 "$@"
}

case "$MODE" in
  smoke)
    secs="${1:-4}"
    for t in "${ALL[@]}"; do
      log=$(mktemp)
      if ! run "$t" -max_total_time="$secs" >"$log" 2>&1; then
        cat "$log"; echo "FAIL: fuzz target $t crashed (see fuzz/artifacts/$t/)"; exit 1
      fi
      execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$')
      cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
      echo "fuzz smoke: $t ran ${secs}s, $execs executions, coverage $cov edges, no crash"
      rm -f "$log"
    done
    ;;
  campaign)
    runs="${1:-10000000}"
    [ $# -gt 0 ] && shift
    targets=("$@")
    [ ${#targets[@]} -eq 0 ] && targets=("${ALL[@]}")
    mkdir -p fuzz/logs
    NICE=(nice -n 15)
    printf '| target | executions | seconds | exec/s | coverage (edges) | features | corpus | crashes |\n'
    printf '|---|---|---|---|---|---|---|---|\n'
    for t in "${targets[@]}"; do
      log="fuzz/logs/$t.log"
      start=$(date +%s)
      status=0
      limit=()
      [ -n "${VOUCH_FUZZ_MAX_SECONDS:-}" ] && limit=(-max_total_time="$VOUCH_FUZZ_MAX_SECONDS")
      run "$t" -runs="$runs" "${limit[@]}" >"$log" 2>&1 || status=$?
      secs=$(( $(date +%s) - start ))
      execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
      last=$(grep -E '^#[0-9]+' "$log" | tail -1)
      cov=$(grep -o 'cov: [0-9]*' <<<"$last" | grep -o '[0-9]*$' || echo '?')
      ft=$(grep -o 'ft: [0-9]*' <<<"$last" | grep -o '[0-9]*$' || echo '?')
      corp=$(grep -o 'corp: [0-9]*' <<<"$last" | grep -o '[0-9]*$' || echo '?')
      crashes=$(ls "fuzz/artifacts/$t" 2>/dev/null | wc -l)
      printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$t" "$execs" "$secs" \
        "$(( execs / (secs > 0 ? secs : 1) ))" "$cov" "$ft" "$corp" "$crashes"
      if [ "$status" -ne 0 ]; then
        echo "FAIL: fuzz target $t stopped with status $status; see $log and fuzz/artifacts/$t/"
        exit 1
      fi
    done
    ;;
  *) echo "usage: scripts/fuzz.sh smoke [SECONDS] | campaign [RUNS] [TARGET...]" >&2; exit 2 ;;
esac
