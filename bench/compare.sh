#!/usr/bin/env bash
# Before and after, side by side in ONE run on this machine. Builds
# skillreg from BASE (a git revision: by default the tree before token
# MACs and chunked imports) and from the working tree, then measures each
# in turn, ROUNDS times, alternating, so that a change in the machine's
# load weighs on both alike:
#
#   verify  bench/verify.sh: GET /v/<token> over N distinct certificates
#           against GET /healthz of the same server (wrk); BASE with its
#           parse cache off (--verify-cache 0) and on (its default) if it
#           has one, else once, then the working tree (which has no parse
#           cache)
#   import  BenchmarkImport100k: import against raw Store.CreateCertificate
#           at ROWS rows, statistics and audit on
#   scale   bench/verify.sh with STORE=demo over a store of N certificates
#           and one of BIG (1,000,000), each made once by the working tree's
#           `skillreg demo` and copied fresh for every server; the working
#           tree's binary (and the base's too with SCALE_TREES="base new"):
#           SAMPLE (100,000) tokens drawn at random from each store (all of
#           a smaller one), each verified once before wrk; the summary gives
#           BIG's verify req/s against N's, and the server's CPU time per
#           verification at BIG against N's (steadier on a busy machine)
#   inproc  the in-process handler benchmarks BenchmarkVerifyAPI/token and
#           BenchmarkHealthz (no sockets, no wrk: CPU per request), 5000
#           requests each, 4 times
#   issue   BenchmarkStatsIssue: one Registry.Issue after another (API
#           issuance: certificate, statistics upkeep, audit; in the new
#           tree also the token's signature and MAC), ISSUES each, 3 times
#   statsread  BenchmarkStatsRead over 10,000 demo certificates: the
#           tier, province and trend reads, 2000 each, 3 times
#   demo    skillreg demo --certificates DEMO under /usr/bin/time -v:
#           wall time, CPU time (user + system) and peak RSS
#
#   bench/compare.sh [verify] [scale] [inproc] [import] [issue] [statsread] [demo]  (default: all)
#
# Environment: BASE (b1d9d08, main just before this work), ROUNDS (2), N (10000), DURATION (20s),
# CONNS (64), ROWS (100000), ISSUES (500), DEMO (1000000), BIG (1000000), SAMPLE (100000),
# SCALE_TREES (new), BIG_DATA (a data directory that `skillreg demo --certificates BIG` made
# earlier, used instead of making one; it is copied, never changed). Needs go, git, curl, jq, bc,
# python3, wrk and GNU time. Prints "RESULT" lines; the last block is the
# summary.
set -euo pipefail
BASE=${BASE:-b1d9d08}
ROUNDS=${ROUNDS:-2}
N=${N:-10000}
DURATION=${DURATION:-20s}
CONNS=${CONNS:-64}
ROWS=${ROWS:-100000}
DEMO=${DEMO:-1000000}
ISSUES=${ISSUES:-500}
BIG=${BIG:-1000000}
SAMPLE=${SAMPLE:-100000}
SCALE_TREES=${SCALE_TREES:-new}
what=("$@")
[ ${#what[@]} -gt 0 ] || what=(verify scale inproc import issue statsread demo)
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
summary="$work/summary"
: >"$summary"

echo "== build: base $BASE and the working tree ($(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet || echo ', modified'))"
# Both trees are copied first, so that editing the working tree during the
# run changes nothing measured.
mkdir -p "$work/base" "$work/new"
git -C "$root" archive "$BASE" | tar -x -C "$work/base"
(cd "$root" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -c) | tar -x -C "$work/new"
for tree in base new; do
  (cd "$work/$tree" && CGO_ENABLED=0 go build -o "$work/skillreg-$tree" ./cmd/skillreg)
done
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(go version | cut -d' ' -f3); load: $(cut -d' ' -f1-3 /proc/loadavg)"

note() { echo "$*" | tee -a "$summary"; }

for w in "${what[@]}"; do
  for round in $(seq "$ROUNDS"); do
    case $w in
    verify)
      runs=("base cache-off" "base cache-on" "new")
      # A base without the parse cache (main since token MACs) has no
      # --verify-cache flag: it runs once, as it is.
      "$work/skillreg-base" serve --help 2>&1 | grep -q -- '-verify-cache' || runs=("base" "new")
      for run in "${runs[@]}"; do
        set -- $run
        flags=
        [ "$run" = "base cache-off" ] && flags="--verify-cache 0"
        out=$(SKILLREG_BIN="$work/skillreg-$1" SERVE_FLAGS="$flags" "$root/bench/verify.sh" "$N" "$DURATION" "$CONNS" 2>&1 | tee /dev/stderr | grep '^RESULT' || true)
        note "verify round $round $run: ${out#RESULT } load $(cut -d' ' -f1 /proc/loadavg)"
      done
      ;;
    import)
      for tree in base new; do
        out=$(cd "$work/$tree" && SKILLREG_BENCH_ROWS=$ROWS go test -run '^$' -bench BenchmarkImport100k -benchtime 1x -timeout 2h ./registry/importer/ 2>/dev/null | grep '^BenchmarkImport100k' || true)
        note "import round $round $tree ($ROWS rows): $(echo "$out" | awk '{for (i=3;i<NF;i+=2) printf "%s=%s ", $(i+1), $i}') load $(cut -d' ' -f1 /proc/loadavg)"
      done
      ;;
    scale)
      # One demo store of each size, made once by the working tree's
      # binary; every measurement works on a fresh copy of it.
      for n in "$N" "$BIG"; do
        if [ "$n" = "$BIG" ] && [ -n "${BIG_DATA:-}" ] && [ ! -e "$work/demo-$n" ]; then
          ln -s "$(cd "$BIG_DATA" && pwd)" "$work/demo-$n" # made before, and only copied
        fi
        [ -e "$work/demo-$n" ] || "$work/skillreg-new" demo --certificates "$n" --data "$work/demo-$n" --quiet >/dev/null
      done
      for tree in $SCALE_TREES; do
        small= big=
        for n in "$N" "$BIG"; do
          out=$(DEMO_DATA="$work/demo-$n" SKILLREG_BIN="$work/skillreg-$tree" STORE=demo SAMPLE=$((n < SAMPLE ? n : SAMPLE)) "$root/bench/verify.sh" "$n" "$DURATION" "$CONNS" 2>&1 | tee /dev/stderr | grep '^RESULT' || true)
          note "scale round $round $tree: ${out#RESULT } load $(cut -d' ' -f1 /proc/loadavg)"
          rps=$(sed -n 's/.* verify_rps=\([0-9.]*\).*/\1/p' <<<"$out")
          cpu=$(sed -n 's/.* verify_cpu_us=\([0-9.]*\).*/\1/p' <<<"$out")
          if [ "$n" = "$N" ]; then small=$rps smallcpu=$cpu; else big=$rps bigcpu=$cpu; fi
        done
        if [ -n "$small" ] && [ -n "$big" ]; then
          note "scale round $round $tree: verify req/s at $BIG / at $N = $(printf '%.3f' "$(echo "$big / $small" | bc -l)"); server CPU per verification at $BIG / at $N = $(printf '%.3f' "$(echo "$bigcpu / $smallcpu" | bc -l)")"
        fi
      done
      ;;
    inproc)
      for tree in base new; do
        out=$(cd "$work/$tree" && go test -run '^$' -bench 'BenchmarkVerifyAPI/token$|BenchmarkHealthz$' -benchtime 5000x -count 4 ./handlers/ 2>/dev/null |
          awk '/^BenchmarkVerifyAPI/ {v = v $3 " "} /^BenchmarkHealthz/ {h = h $3 " "} END {printf "verify ns/op %s| healthz ns/op %s", v, h}' || true)
        note "inproc round $round $tree: $out load $(cut -d' ' -f1 /proc/loadavg)"
      done
      ;;
    issue)
      for tree in base new; do
        out=$(cd "$work/$tree" && go test -run '^$' -bench 'BenchmarkStatsIssue$' -benchtime "${ISSUES}x" -count 3 ./registry/ 2>/dev/null | awk '/^BenchmarkStatsIssue/ {printf "%s ", $3}' || true)
        note "issue round $round $tree: ns/op $out load $(cut -d' ' -f1 /proc/loadavg)"
      done
      ;;
    statsread)
      for tree in base new; do
        out=$(cd "$work/$tree" && go test -run '^$' -bench 'BenchmarkStatsRead$' -benchtime 2000x -count 3 ./registry/ 2>/dev/null \
          | awk '/^BenchmarkStatsRead/ {sub(/^BenchmarkStatsRead\/certs=10000\//, "", $1); sub(/-[0-9]+$/, "", $1); v[$1] = v[$1] " " $3} END {for (k in v) printf "%s:%s; ", k, v[k]}' || true)
        note "statsread round $round $tree (10,000 certificates, ns/op): $out load $(cut -d' ' -f1 /proc/loadavg)"
      done
      ;;
    demo)
      for tree in base new; do
        rm -rf "$work/demo"
        /usr/bin/time -v "$work/skillreg-$tree" demo --certificates "$DEMO" --data "$work/demo" --quiet >"$work/demo.out" 2>"$work/demo.time" || { cat "$work/demo.out" "$work/demo.time"; exit 1; }
        wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/demo.time")
        rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$work/demo.time")
        cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.1f", s}' "$work/demo.time")
        note "demo round $round $tree ($DEMO certificates): wall $wall, CPU ${cpu} s, peak RSS ${rss} MiB, load $(cut -d' ' -f1 /proc/loadavg)"
      done
      rm -rf "$work/demo"
      ;;
    *)
      echo "unknown measurement $w (verify, scale, inproc, import, issue, statsread, demo)"
      exit 2
      ;;
    esac
  done
done
echo
echo "== summary (base $BASE, new $(git -C "$root" rev-parse --short HEAD))"
cat "$summary"
