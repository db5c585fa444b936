#!/usr/bin/env bash
# Whole-process benchmark: svchunt hunt against three baselines, same corpus, same thread count.
#
#   bench/run.sh [1g|dense|10g|shared] [runs]
#
# (a) svchunt hunt                 the whole hunt: installs and evidence, correlation, attribution,
#                                  JSON out
# (b) evtx-render-json             renders every record to JSON with the evtx crate
# (c) evtx-template-walk           walks every record's template substitution values, no rendering
# (d) evtx-header-walk             the floor: reads every chunk and walks its record headers, no
#                                  BinXML at all
#
# Corpora are made on demand under target/bench-corpus/ and never committed: `1g` and `10g` are
# svchunt-gen's bench presets (System + Security + Sysmon logs of many hosts, mostly noise, a few
# hundred executions, a benign install every 400 events); `dense` is its Security-dense preset
# (busy servers' Security logs, chunks full of logons as production logs are, an install every
# 5,000 events); `shared` replicates the shared corpus's EVTX files to about 1 GiB.
# Each program runs `runs` times (default 3); the best wall time and its peak RSS are reported,
# with the load average before the runs (the ratios compare programs of the same run: they
# matter more than the times on a shared machine).
set -euo pipefail
cd "$(dirname "$0")/.."

preset="${1:-1g}"
runs="${2:-3}"
target="${CARGO_TARGET_DIR:-target}"
corpus="$target/bench-corpus/$preset"

cargo build --release --quiet --workspace
bin="$target/release"

if [ ! -d "$corpus" ]; then
  case "$preset" in
    1g) "$bin/svchunt-gen" --preset bench1g --out "$corpus" >/dev/null ;;
    10g) "$bin/svchunt-gen" --preset bench10g --out "$corpus" >/dev/null ;;
    dense) "$bin/svchunt-gen" --preset dense --out "$corpus" >/dev/null ;;
    shared)
      src="${SVCHUNT_CORPUS:-../shared/corpus}"
      [ -d "$src" ] || { echo "no shared corpus at $src" >&2; exit 2; }
      mkdir -p "$corpus"
      i=0
      while [ "$(du -sm "$corpus" | cut -f1)" -lt 1024 ]; do
        i=$((i + 1))
        mkdir -p "$corpus/copy$i"
        find "$src" -name '*.evtx' -size +16k -print0 |
          while IFS= read -r -d '' f; do cp "$f" "$corpus/copy$i/$(echo "$f" | md5sum | cut -c1-12).evtx"; done
      done ;;
    *) echo "unknown corpus $preset (1g, dense, 10g or shared)" >&2; exit 2 ;;
  esac
fi

bytes=$(find -L "$corpus" -name '*.evtx' -printf '%s\n' | awk '{s+=$1} END {printf "%.0f\n", s}')
records=$("$bin/evtx-header-walk" "$corpus" --threads 2 | sed -n 's/.*records=\([0-9]*\).*/\1/p')

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GiB"
echo "corpus:  $corpus, $((bytes / 1048576)) MiB of EVTX, $records records"
echo

# best_of CMD...: prints "wall_seconds peak_rss_kib" of the fastest of $runs runs.
best_of() {
  local best="" rss=""
  for _ in $(seq "$runs"); do
    local log out
    log=$(mktemp)
    /usr/bin/time -o "$log" -f '%e %M' "$@" >/dev/null 2>&1
    out=$(tail -1 "$log")
    rm -f "$log"
    local t=${out% *} m=${out#* }
    if [ -z "$best" ] || awk "BEGIN {exit !($t < $best)}"; then best=$t; rss=$m; fi
  done
  echo "$best $rss"
}

printf '%-22s %7s %9s %9s %12s %9s %6s\n' program threads wall_s MB/s records/s rss_MiB load
declare -A wall
for threads in 1 2; do
  for prog in svchunt render template walk; do
    case $prog in
      svchunt) cmd=("$bin/svchunt" hunt "$corpus" -q -f json -o /dev/null -j "$threads") ;;
      render) cmd=("$bin/evtx-render-json" "$corpus" --threads "$threads") ;;
      template) cmd=("$bin/evtx-template-walk" "$corpus" --threads "$threads") ;;
      walk) cmd=("$bin/evtx-header-walk" "$corpus" --threads "$threads") ;;
    esac
    load=$(cut -d' ' -f1 /proc/loadavg)
    read -r t m < <(best_of "${cmd[@]}")
    wall[$prog$threads]=$t
    awk -v p="$prog" -v th="$threads" -v t="$t" -v m="$m" -v b="$bytes" -v r="$records" -v l="$load" 'BEGIN {
      printf "%-22s %7d %9.2f %9.0f %12.0f %9.0f %6s\n", p, th, t, b / 1e6 / t, r / t, m / 1024, l }'
  done
done
echo
for threads in 1 2; do
  awk -v a="${wall[svchunt$threads]}" -v b="${wall[render$threads]}" -v c="${wall[template$threads]}" -v d="${wall[walk$threads]}" -v th="$threads" 'BEGIN {
    printf "threads=%d  a/b (render / svchunt) = %.2fx faster   a/c (svchunt / template walk) = %.2fx the time   a/d (svchunt / header walk) = %.2fx the floor\n", th, b / a, a / c, a / d }'
done
awk -v one="${wall[svchunt1]}" -v two="${wall[svchunt2]}" 'BEGIN { printf "svchunt 2 threads vs 1: %.2fx faster\n", one / two }'
