#!/usr/bin/env bash
# The test suite's speed and steadiness, as the README runs it (go test ./...):
#
#   idle     one `go test -count=1 ./...`: its wall time and each package's
#            time, slowest first (run it on an idle machine: the goal is at
#            most 4 minutes for the suite and about 90 s for any package)
#   load     a loop of `go test -count=1 ./...` (the load) and, while it
#            runs, `go test -count=1 ./... && go test -count=1 ./...`: both
#            measured runs must pass, and so must every load run that
#            finished meanwhile
#   compare  `go test -count=1 ./cmd/skillreg` (the slowest package) in BASE
#            (a git revision, exported with git archive) and in the working
#            tree, alternately, ROUNDS times each
#
#   bench/suite.sh [idle] [load] [compare]        (default: idle load)
#
# Environment: SKILLREG_TEST_MONGO_URI (when unset, the script starts the
# MongoDB-wire test server, internal/mongowire, as .ci/run does, so that the
# MongoDB store tests run), BASE (main), ROUNDS (2), LOGDIR (a new temporary
# directory; every go test output is kept there). As .ci/run does, it
# installs the interop tests' npm packages when npm is there and they are
# missing; without chromium, zbarimg, curl, jq or those packages some tests
# skip, and the summary says which.
#
# Logs: idle.log, measured-1.log and measured-2.log (the runs under load),
# loop-N.log (the load), compare-SIDE-N.log. Prints "RESULT" lines as it goes; the last block is the summary. Exits 1
# if any measured run failed.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
BASE=${BASE:-main}
ROUNDS=${ROUNDS:-2}
LOGDIR=${LOGDIR:-$(mktemp -d /tmp/skillreg-suite.XXXXXX)}
mkdir -p "$LOGDIR"
modes=("$@")
[ ${#modes[@]} -eq 0 ] && modes=(idle load)

summary=()
failed=0
result() { echo "RESULT $*"; summary+=("$*"); }
load() { cut -d' ' -f1-3 /proc/loadavg; }
now() { date +%s.%N; }
secs() { printf '%.1f' "$(echo "$2 - $1" | bc)"; }

# --- what the tests need ------------------------------------------------------
for tool in chromium zbarimg curl jq node; do
  command -v "$tool" >/dev/null 2>&1 || result "missing $tool: the tests that need it skip"
done
if [ ! -d handlers/testdata/interop/node_modules ] && command -v npm >/dev/null 2>&1; then
  echo "== npm install (handlers/testdata/interop), as .ci/run does"
  (cd handlers/testdata/interop && npm install --no-audit --no-fund --no-package-lock --loglevel=error >/dev/null) \
    || result "could not install the interop npm packages: those tests skip"
fi

mw_pid=
load_pgid=
base_dir=
cleanup() {
  if [ -n "$load_pgid" ]; then kill -- "-$load_pgid" 2>/dev/null || true; fi
  if [ -n "$mw_pid" ]; then kill "$mw_pid" 2>/dev/null || true; wait "$mw_pid" 2>/dev/null || true; fi
  if [ -n "$base_dir" ]; then rm -rf "$base_dir"; fi
}
trap cleanup EXIT

if [ -z "${SKILLREG_TEST_MONGO_URI:-}" ]; then
  echo "== mongowire (MongoDB-wire test server)"
  (cd internal/mongowire && go build -o "$LOGDIR/mongowire" .)
  "$LOGDIR/mongowire" --listen 127.0.0.1:0 --dir "$LOGDIR/mongowire-data" >"$LOGDIR/mongowire.out" 2>"$LOGDIR/mongowire.err" &
  mw_pid=$!
  for _ in $(seq 1 300); do
    grep -q '^ready ' "$LOGDIR/mongowire.out" && break
    kill -0 "$mw_pid" 2>/dev/null || { echo "mongowire exited:"; cat "$LOGDIR/mongowire.err"; exit 1; }
    sleep 0.1
  done
  SKILLREG_TEST_MONGO_URI=$(sed -n 's/^ready //p' "$LOGDIR/mongowire.out")
  [ -n "$SKILLREG_TEST_MONGO_URI" ] || { echo "mongowire did not print ready"; exit 1; }
fi
export SKILLREG_TEST_MONGO_URI
echo "== SKILLREG_TEST_MONGO_URI=$SKILLREG_TEST_MONGO_URI; logs in $LOGDIR"

# suite NAME: one `go test -count=1 ./...`, output to $LOGDIR/NAME.log;
# sets wall and rc.
suite() {
  local start
  start=$(now)
  set +e
  go test -count=1 ./... >"$LOGDIR/$1.log" 2>&1
  rc=$?
  set -e
  wall=$(secs "$start" "$(now)")
}

# packages LOG: each package's time from a go test log, slowest first.
packages() {
  awk '$1 == "ok" || $1 == "FAIL" { if ($3 ~ /s$/) { t = $3; sub(/s$/, "", t); printf "%8.1f s  %s %s\n", t, $1, $2 } }' "$1" | sort -rn
}

# failures LOG: the failure lines of a go test log.
failures() { grep -E '^(--- FAIL|FAIL|panic:)' "$1" | head -20 || true; }

# Build everything the tests build first, so that the first measured run
# does not also pay for compiling.
echo "== warming the build cache (go test -count=1 -run '^$' ./...)"
go test -count=1 -run '^$' ./... >/dev/null

for mode in "${modes[@]}"; do
  case "$mode" in
  idle)
    echo "== idle: go test -count=1 ./...   (load before: $(load))"
    l0=$(load)
    suite idle
    result "idle run: exit $rc, wall $wall s, load $l0 before, $(load) after"
    echo "   packages, slowest first:"
    packages "$LOGDIR/idle.log" | sed 's/^/   /'
    slowest=$(packages "$LOGDIR/idle.log" | head -1)
    result "idle run: slowest package: $slowest"
    [ "$rc" = 0 ] || { failed=1; failures "$LOGDIR/idle.log"; }
    ;;
  load)
    echo "== load: a loop of go test -count=1 ./... in the background   (load before: $(load))"
    l0=$(load)
    setsid bash -c '
      i=0
      while :; do
        i=$((i + 1))
        s=$(date +%s)
        if go test -count=1 ./... >"'"$LOGDIR"'/loop-$i.log" 2>&1; then r=pass; else r=FAIL; fi
        echo "load run $i: $r, $(( $(date +%s) - s )) s" >>"'"$LOGDIR"'/loop-runs.txt"
      done' </dev/null >/dev/null 2>&1 &
    load_pgid=$!
    sleep 20 # the load is under way before the measured runs start
    suite measured-1
    result "under load, run 1: exit $rc, wall $wall s, load $(load)"
    [ "$rc" = 0 ] || { failed=1; failures "$LOGDIR/measured-1.log"; }
    rc1=$rc
    if [ "$rc1" = 0 ]; then
      suite measured-2
      result "under load, run 2: exit $rc, wall $wall s, load $(load)"
      [ "$rc" = 0 ] || { failed=1; failures "$LOGDIR/measured-2.log"; }
    fi
    kill -- "-$load_pgid" 2>/dev/null || true
    load_pgid=
    sleep 1
    done_runs=$(cat "$LOGDIR/loop-runs.txt" 2>/dev/null || true)
    result "load loop: ${done_runs:-no run finished} (load $l0 before); the run in progress at the end was stopped"
    if grep -q FAIL <<<"$done_runs"; then
      failed=1
      for i in $(sed -n 's/^load run \([0-9]*\): FAIL.*/\1/p' <<<"$done_runs"); do
        echo "   load run $i ($LOGDIR/loop-$i.log):"; failures "$LOGDIR/loop-$i.log"
      done
    fi
    for f in "$LOGDIR"/measured-1.log "$LOGDIR"/measured-2.log; do
      [ -f "$f" ] || continue
      echo "   $(basename "$f" .log), packages over 30 s:"
      packages "$f" | awk '$1 > 30' | sed 's/^/   /'
    done
    ;;
  compare)
    base_dir=$(mktemp -d)
    git archive "$BASE" | tar -x -C "$base_dir"
    base_rev=$(git rev-parse --short "$BASE")
    echo "== compare: go test -count=1 ./cmd/skillreg, $BASE ($base_rev) and the working tree, alternately"
    (cd "$base_dir" && go test -count=1 -run '^$' ./cmd/skillreg >/dev/null)
    for r in $(seq 1 "$ROUNDS"); do
      for side in base new; do
        dir=.
        [ "$side" = base ] && dir=$base_dir
        l0=$(load)
        start=$(now)
        set +e
        (cd "$dir" && go test -count=1 ./cmd/skillreg) >"$LOGDIR/compare-$side-$r.log" 2>&1
        rc=$?
        set -e
        result "compare round $r, $side: cmd/skillreg exit $rc, $(packages "$LOGDIR/compare-$side-$r.log" | awk '{print $1 " s"}'), wall $(secs "$start" "$(now)") s, load $l0 before"
        [ "$rc" = 0 ] || { failed=1; failures "$LOGDIR/compare-$side-$r.log"; }
      done
    done
    ;;
  *)
    echo "unknown mode $mode (idle, load, compare)"; exit 2
    ;;
  esac
done

echo
echo "== summary ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(go version | cut -d' ' -f3), logs in $LOGDIR)"
printf '%s\n' "${summary[@]}"
if [ "$failed" != 0 ]; then
  echo "FAILED: a measured run failed (see above and the logs)"
  exit 1
fi
