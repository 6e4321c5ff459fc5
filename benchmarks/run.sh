#!/usr/bin/env bash
# Runs every benchmark of this module COUNT times, summarises the runs with
# benchstat and writes RESULTS.md (and the raw output to bench.txt).
#
#   ./run.sh                                  # COUNT=6 BENCHTIME=1s
#   COUNT=10 BENCHTIME=2s ./run.sh
#   BENCH='Sync|Tracing' COUNT=6 ./run.sh     # a subset (a -bench regexp)
#   ./run.sh summarise                        # only rewrite RESULTS.md from bench.txt
#   NOTE='...' ./run.sh                       # a remark for RESULTS.md's setup table
#
# The rounds are interleaved (every benchmark once, then again, COUNT
# times) rather than each benchmark COUNT times in a row, so that a slow
# spell on a shared machine spreads over all rows instead of skewing one.
# Ratios in RESULTS.md are against baselines measured in the same run.
set -euo pipefail
cd "$(dirname "$0")"

COUNT="${COUNT:-6}"
BENCHTIME="${BENCHTIME:-1s}"
BENCH="${BENCH:-.}"
BENCHSTAT_VERSION="${BENCHSTAT_VERSION:-v0.0.0-20260908200009-22c9c6c9d4da}"
benchstat=(go run "golang.org/x/perf/cmd/benchstat@${BENCHSTAT_VERSION}")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

run() {
  local tags=() startup="included"

  echo "== building the test binary ${tags[*]:-}"
  go test "${tags[@]}" -c -o "$tmp/bench.test" .

  local rev
  rev=$(git -C .. rev-parse --short HEAD 2>/dev/null || echo unknown)
  if [ -n "$(git -C .. status --porcelain -- bus internal go.mod 2>/dev/null)" ]; then
    rev="$rev with uncommitted changes in bus/, internal/ or go.mod"
  fi

  local raw="bench.txt.tmp" start elapsed i
  # Lines "key: value" before the results are configuration to benchstat;
  # summarise reads them back.
  {
    echo "fxbus-rev: $rev"
    echo "run-count: $COUNT"
    echo "run-benchtime: $BENCHTIME"
    echo "run-bench: $BENCH"
    echo "run-startup: $startup"
    if [ -n "${NOTE:-}" ]; then echo "run-note: $NOTE"; fi
  } >"$raw"
  start=$(date +%s)
  for i in $(seq 1 "$COUNT"); do
    echo "== round $i of $COUNT (-bench '$BENCH' -benchtime $BENCHTIME)"
    "$tmp/bench.test" -test.run '^$' -test.bench "$BENCH" -test.benchmem \
      -test.benchtime "$BENCHTIME" -test.count 1 | tee -a "$raw" | grep -E '^(Benchmark|FAIL|panic)' || true
    if grep -qE '^(FAIL|panic|--- FAIL)' "$raw"; then
      echo "benchmarks failed; see $raw" >&2
      exit 1
    fi
  done
  elapsed=$(($(date +%s) - start))
  sed -i "1i run-elapsed: ${elapsed}s" "$raw"
  mv "$raw" bench.txt
  echo "== $COUNT rounds in ${elapsed}s"
}

meta() { # meta <key>: a "key: value" line of bench.txt
  sed -n "s/^$1: //p" bench.txt | head -n1
}

summarise() {
  echo "== summarising"
  local cpu
  cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true)
  [ -n "$cpu" ] || cpu=$(uname -m)
  {
    echo "# Benchmark results"
    echo
    echo "Written by \`benchmarks/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC') from the raw output in"
    echo "\`bench.txt\`. The machine is shared and noisy: read the ratios, which compare"
    echo "results of the same round, rather than absolute figures across runs."
    echo
    echo "## Setup"
    echo
    echo "| | |"
    echo "|:--|:--|"
    echo "| machine | $(nproc) CPUs ($(uname -m)), $cpu |"
    echo "| Go | $(go env GOVERSION) $(go env GOOS)/$(go env GOARCH), GOMAXPROCS=${GOMAXPROCS:-$(nproc)} |"
    echo "| runs | $(meta run-count) interleaved rounds, -benchtime $(meta run-benchtime), -benchmem, -bench '$(meta run-bench)'; $(meta run-elapsed) in all |"
    echo "| fxbus | github.com/fxbus/fxbus at $(meta fxbus-rev) (replace ../) |"
    echo "| fx startup benchmarks | $(meta run-startup) |"
    echo "| summaries | cmd/benchtable; golang.org/x/perf/cmd/benchstat@$BENCHSTAT_VERSION |"
    if [ -n "$(meta run-note)" ]; then echo "| note | $(meta run-note) |"; fi
    echo
    echo "Libraries, from go.mod:"
    echo
    echo '```'
    go list -m -f '{{.Path}} {{.Version}}' \
      github.com/maniartech/signals github.com/gookit/event github.com/mustafaturan/bus/v3 \
      github.com/asaskevich/EventBus github.com/kelindar/event github.com/ThreeDotsLabs/watermill \
      go.opentelemetry.io/otel go.opentelemetry.io/otel/sdk go.uber.org/fx go.uber.org/dig
    echo '```'
    echo
    echo "## Tables"
    echo
    echo "ns/op and allocs/op are medians over the rounds. A ratio is the median, over the"
    echo "rounds, of the row's ns/op divided by its baseline's in the same round."
    echo
    go run ./cmd/benchtable bench.txt
    cat remote.md # the distributed round trip, written by hand from its own run
    echo
    echo "## benchstat"
    echo
    echo "Medians with 95% confidence intervals; columns compare with the first (the baseline)."
    echo "\"~\" means the difference is not significant at this count."
    echo
    stat "Synchronous publish, by library" -filter '.name:Sync' -col /lib -row /handlers
    stat "Contexts shaped like a server's" -filter '.name:Context' -col /lib -row /ctx
    stat "Asynchronous, end to end" -filter '.name:Async' -col /lib -row /handlers
    stat "Tracing, sampled" -filter '.name:Tracing /mode:sampled' -col /impl -row /handlers
    stat "Tracing, unsampled" -filter '.name:Tracing /mode:unsampled' -col /impl -row /handlers
    stat "bus.New" -filter '.name:BusNew'
    stat "fx startup" -filter '.name:Startup' -col /kind -row /listeners
    stat "Remote round trip (NATS JetStream)" -filter '.name:Remote' -col /lib
  } >RESULTS.md
  echo "== wrote RESULTS.md"
}

stat() { # stat <title> <benchstat flags...>: one benchstat summary, folded
  local out
  if out=$("${benchstat[@]}" "${@:2}" bench.txt 2>&1) && [ -n "$out" ]; then
    printf '<details><summary>%s</summary>\n\n```\n%s\n```\n\n</details>\n\n' "$1" "$out"
  fi
}

if [ "${1:-}" = summarise ]; then
  [ -f bench.txt ] || { echo "no bench.txt to summarise" >&2; exit 1; }
else
  run
fi
summarise
