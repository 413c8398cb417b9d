#!/usr/bin/env bash
# Runs every fuzz target with cargo fuzz (libFuzzer, nightly).
#
#   crate/fuzz/run.sh SECONDS            each target for SECONDS on the committed corpus (make test: 5)
#   crate/fuzz/run.sh SECONDS --record   longer runs (make fuzz), seeded also with samples of the real
#                                        logs in ../shared/data (not committed), then the corpora are
#                                        minimised (see below) and the figures written to
#                                        crate/fuzz/RESULTS.md
#
# A crash (panic, broken invariant, an allocation over 64 MB, a leak of memory over 1 GB) stops
# with a non-zero exit after copying its input to crate/fuzz/regressions/<target>/, which the
# stable test suite replays from then on.
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-5}"
record="${2:-}"
repo="$(cd ../.. && pwd)"
work="$repo/build/fuzz"
export PATH="$HOME/.cargo/bin:$PATH"

if ! rustup toolchain list | grep -q '^nightly'; then
  echo "fuzz: installing the nightly toolchain (once)"
  rustup toolchain install nightly --profile minimal
fi
if [ "$(cargo fuzz --version 2>/dev/null | awk '{print $2}')" != "0.13.2" ]; then
  echo "fuzz: installing cargo-fuzz 0.13.2 (once)"
  cargo install cargo-fuzz --locked --version 0.13.2
fi
echo "fuzz: building the targets"
cargo +nightly fuzz build --fuzz-dir . -s none -O

seed_real() {
  # Samples of the real logs, for long runs only; read in place, never committed.
  local data="${SHOPPER_INTENT_DATA:-$repo/../shared/data}"
  mkdir -p "$work/real/jsonl" "$work/real/taobao"
  if [ -f "$data/clickstreamdmm/events.jsonl" ]; then
    for i in 0 1 2 3; do sed -n "$((i * 40000 + 1)),$((i * 40000 + 60))p" "$data/clickstreamdmm/events.jsonl" > "$work/real/jsonl/cs-$i"; done
  fi
  if [ -f "$data/taobao/UserBehavior_first100k.csv" ]; then
    for i in 0 1 2 3; do sed -n "$((i * 20000 + 1)),$((i * 20000 + 80))p" "$data/taobao/UserBehavior_first100k.csv" > "$work/real/taobao/tb-$i"; done
  fi
}

real_for() {
  case "$1" in
    jsonl|event_json) echo "$work/real/jsonl" ;;
    taobao) echo "$work/real/taobao" ;;
    sniffed) echo "$work/real/jsonl $work/real/taobao" ;;
  esac
}

[ -n "$record" ] && seed_real
results="$work/results.tsv"
mkdir -p "$work"
: > "$results"
failed=0
for t in $(cargo +nightly fuzz list --fuzz-dir .); do
  mkdir -p "$work/new/$t" "corpus/$t" "regressions/$t"
  dirs="$work/new/$t corpus/$t regressions/$t"
  [ -n "$record" ] && dirs="$dirs $(real_for "$t")"
  log="$work/$t.log"
  set +e
  # shellcheck disable=SC2086
  cargo +nightly fuzz run --fuzz-dir . -s none -O "$t" $dirs -- \
    -max_total_time="$secs" -malloc_limit_mb=64 -rss_limit_mb=1024 -timeout=10 -print_final_stats=1 > "$log" 2>&1
  status=$?
  set -e
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  crashes=$(find "artifacts/$t" -type f 2>/dev/null | wc -l)
  printf '%s\t%s\t%s\t%s\t%s\n' "$t" "${runs:-0}" "$secs" "$crashes" "$status" >> "$results"
  printf 'fuzz: %-14s %12s executions in %ss, exit %s\n' "$t" "${runs:-0}" "$secs" "$status"
  if [ "$status" -ne 0 ] || [ "$crashes" -gt 0 ]; then
    failed=1
    for f in artifacts/"$t"/*; do [ -f "$f" ] && cp "$f" "regressions/$t/" && echo "fuzz: $t found $f (copied to crate/fuzz/regressions/$t/)"; done
    tail -30 "$log"
  fi
done

if [ -n "$record" ]; then
  # libFuzzer's merge keeps a small set of inputs that covers what the run reached. The full corpus
  # stays in build/fuzz/new/ (the next long run starts from it); the merged set is copied into the committed corpus
  # only for targets that never saw the real logs (their inputs may carry pieces of them) and only
  # when it stays small (<= 128 files), so the repository and the replay test stay light.
  echo "fuzz: minimising the corpora"
  : > "$work/min.tsv"
  for t in $(cargo +nightly fuzz list --fuzz-dir .); do
    bin="target/x86_64-unknown-linux-gnu/release/$t"
    rm -rf "$work/min/$t" && mkdir -p "$work/min/$t"
    "$bin" -merge=1 -malloc_limit_mb=64 -rss_limit_mb=1024 "$work/min/$t" "corpus/$t" "$work/new/$t" > "$work/$t.merge.log" 2>&1 || true
    n=$(find "$work/min/$t" -type f | wc -l)
    if [ -z "$(real_for "$t")" ] && [ "$n" -gt 0 ] && [ "$n" -le 128 ]; then
      find "corpus/$t" -type f -delete
      cp "$work/min/$t"/* "corpus/$t/"
      echo "fuzz: $t minimised to $n inputs, committed corpus replaced"
      printf '%s\t%s\t%s\tcommitted\n' "$t" "$n" "$(du -sk "$work/min/$t" | cut -f1)" >> "$work/min.tsv"
    else
      echo "fuzz: $t minimised to $n inputs, kept in build/fuzz/min/$t"
      printf '%s\t%s\t%s\t%s\n' "$t" "$n" "$(du -sk "$work/min/$t" | cut -f1)" "$([ -n "$(real_for "$t")" ] && echo real || echo large)" >> "$work/min.tsv"
    fi
  done
  node "$repo/crate/fuzz/record.mjs" "$results" "$work/min.tsv" RESULTS.md > "$work/RESULTS.md" && mv "$work/RESULTS.md" RESULTS.md
fi
exit "$failed"
