#!/usr/bin/env bash
# HTTP verification under load, in ONE run on this machine: builds
# skillreg, serves a fresh data directory, issues N distinct certificates
# through one CSV import (POST /api/v1/imports), collects their tokens,
# then measures with wrk at C connections:
#   (a) GET /healthz                      a trivial route of the same server
#   (b) GET /v/<token> (application/json) cycling over the N tokens
# and prints requests/s, p50, p99, non-2xx counts, the server's CPU time per
# request (user + system, from /proc), the machine's idle time per request
# and the ratio b/a.
#
#   bench/verify.sh [N=10000] [DURATION=20s] [CONNECTIONS=64]
#   SKILLREG_BIN=/path/to/skillreg bench/verify.sh   # a binary built elsewhere
#   SERVE_FLAGS='--verify-cache 0' bench/verify.sh    # extra serve flags (an
#                                                     # older binary's parse cache)
#   STORE=demo SAMPLE=100000 bench/verify.sh 1000000  # a large store, see below
#
# With STORE=demo the N certificates are not imported over HTTP (too slow
# for millions) but made by `skillreg demo --certificates N` before the
# server starts; SAMPLE (default: all N, at most 100,000) distinct
# certificates are then drawn at random from the whole table, and each
# sampled token is verified once before the measurement, which stores its
# token MAC (demo certificates have none), so that wrk measures the
# steady state over a store of N rows. DEMO_DATA=DIR copies a data
# directory that `skillreg demo --certificates N --data DIR` made instead
# of making one (the copy is measured and thrown away; DIR is unchanged).
#
# Needs go, curl, jq, python3 and wrk (Debian: apt-get install wrk).
set -euo pipefail
N=${1:-10000}
DURATION=${2:-20s}
CONNS=${3:-64}
THREADS=${THREADS:-2}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

if [ -n "${SKILLREG_BIN:-}" ]; then
  cp "$SKILLREG_BIN" "$work/skillreg"
else
  echo "== build"
  (cd "$root" && CGO_ENABLED=0 go build -o "$work/skillreg" ./cmd/skillreg)
fi

STORE=${STORE:-import}
if [ "$STORE" = demo ]; then
  echo "== demo store of $N certificates"
  demo0=$(date +%s.%N)
  if [ -n "${DEMO_DATA:-}" ]; then
    cp -RL "$DEMO_DATA" "$work/data"
    echo "demo: copied $DEMO_DATA" >"$work/demo.out"
  else
    "$work/skillreg" demo --certificates "$N" --data "$work/data" --quiet >"$work/demo.out"
  fi
  demo1=$(date +%s.%N)
  printf 'made %s certificates in %.1f s: %s\n' "$N" "$(echo "$demo1 - $demo0" | bc)" "$(head -1 "$work/demo.out")"
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
echo "== serve on $base (data in $work/data; request logs to $work/server.log)"
SKILLREG_ADMIN_PASSWORD=bench-admin-password-1 "$work/skillreg" serve --data "$work/data" \
  --addr "127.0.0.1:$port" --public-url "$base" \
  --rate-verify off --rate-public off --rate-lookup off ${SERVE_FLAGS:-} \
  >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do curl -fs "$base/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fs "$base/readyz" >/dev/null

post() { curl -fsS -H 'Content-Type: application/json' ${3:+-H "Authorization: Bearer $3"} -d "$2" "$base$1"; }
admin=$(post /api/v1/auth/login '{"username":"admin","password":"bench-admin-password-1"}' | jq -r .token)
post /api/v1/issuers '{"name":"基准测试评价机构","kind":"S","org_code":"0001","province":"11","site":"000001","scope":{"occupations":["6-18"],"max_level":1}}' "$admin" >/dev/null
post /api/v1/users '{"username":"bench-issuer","password":"bench-issuer-pass-1","role":"issuer","issuer_id":"S000111000001"}' "$admin" >/dev/null
issuer=$(post /api/v1/auth/login '{"username":"bench-issuer","password":"bench-issuer-pass-1"}' | jq -r .token)

if [ "$STORE" = demo ]; then
SAMPLE=${SAMPLE:-$((N < 100000 ? N : 100000))}
issued=$N t0=$demo0 t1=$demo1 # the store's rows/s are the demo loader's
echo "== sample $SAMPLE of the $N certificates at random, fetch their tokens, verify each once"
python3 - "$work/data/skillreg.db" "$SAMPLE" >"$work/numbers.txt" <<'PY'
import sys, sqlite3
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
for (n,) in db.execute("SELECT number FROM certificates ORDER BY random() LIMIT ?", (int(sys.argv[2]),)):
    print(n)
PY
python3 - "$base" "$admin" "$work/numbers.txt" >"$work/paths.txt" <<'PY'
import sys, json, http.client, urllib.parse, concurrent.futures, threading
base, tok, numbers = sys.argv[1], sys.argv[2], open(sys.argv[3]).read().split()
host = urllib.parse.urlparse(base).netloc
local = threading.local()
def get(path, headers):
    if not hasattr(local, "c"):
        local.c = http.client.HTTPConnection(host)
    local.c.request("GET", path, headers=headers)
    r = local.c.getresponse()
    b = r.read()
    if r.status != 200:
        raise SystemExit("GET %s: %d %s" % (path, r.status, b[:200]))
    return json.loads(b)
def token(num):
    t = get("/api/v1/certificates/" + num, {"Authorization": "Bearer " + tok})["token"]
    st = get("/v/" + t, {"Accept": "application/json"})["status"]
    if st not in ("valid", "revoked"):
        raise SystemExit("token of %s verifies as %s" % (num, st))
    return t
with concurrent.futures.ThreadPoolExecutor(8) as ex:
    toks = list(ex.map(token, numbers, chunksize=64))
assert len(set(toks)) == len(numbers), "tokens are not distinct"
for t in toks:
    print("/v/" + t)
PY
else # STORE=import
echo "== import $N certificates (one CSV, distinct holders)"
python3 - "$N" >"$work/class.csv" <<'PY'
import sys, datetime
n = int(sys.argv[1])
w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
given = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红"
def name(i):  # distinct names of Chinese characters only (bijective base)
    s, j = "王" + given[i % len(given)], i // len(given)
    while j > 0:
        s, j = s + given[(j - 1) % len(given)], (j - 1) // len(given)
    return s
print("姓名,身份证号,职业编码,等级,评价类型,发证日期")
day0 = datetime.date(1970, 1, 1)
for i in range(n):
    birth = day0 + datetime.timedelta(days=i // 500)
    body = "110105" + birth.strftime("%Y%m%d") + "%03d" % (i % 500 + 100)
    check = "10X98765432"[sum(int(c) * k for c, k in zip(body, w)) % 11]
    print("%s,%s%s,6-18-01-01,%d,social,2025-06-30" % (name(i), body, check, 1 + i % 5))
PY
t0=$(date +%s.%N)
job=$(curl -fsS -H "Authorization: Bearer $issuer" -F "file=@$work/class.csv;type=text/csv" "$base/api/v1/imports" | jq -r .id)
while :; do
  st=$(curl -fsS -H "Authorization: Bearer $issuer" "$base/api/v1/imports/$job")
  case "$(jq -r .status <<<"$st")" in done) break ;; failed) echo "import failed: $st"; exit 1 ;; esac
  sleep 0.5
done
t1=$(date +%s.%N)
issued=$(jq -r .issued <<<"$st")
printf 'issued %s certificates in %.1f s (%.0f rows/s); errors %s\n' "$issued" "$(echo "$t1 - $t0" | bc)" "$(echo "$issued / ($t1 - $t0)" | bc -l)" "$(jq -r .errors <<<"$st")"
[ "$issued" -ge "$N" ] || { echo "import issued $issued of $N"; exit 1; }

echo "== collect tokens"
python3 - "$base" "$issuer" "$N" >"$work/paths.txt" <<'PY'
import sys, json, http.client, urllib.parse, concurrent.futures, threading
base, tok, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
host = urllib.parse.urlparse(base).netloc
local = threading.local()
def get(path):
    if not hasattr(local, "c"):
        local.c = http.client.HTTPConnection(host)
    local.c.request("GET", path, headers={"Authorization": "Bearer " + tok})
    r = local.c.getresponse()
    b = r.read()
    if r.status != 200:
        raise SystemExit("GET %s: %d %s" % (path, r.status, b[:200]))
    return json.loads(b)
numbers = []
page = 1
while len(numbers) < n:
    items = get("/api/v1/certificates?per_page=100&page=%d" % page)["items"]
    if not items:
        break
    numbers += [c["number"] for c in items]
    page += 1
with concurrent.futures.ThreadPoolExecutor(8) as ex:
    toks = list(ex.map(lambda num: get("/api/v1/certificates/" + num)["token"], numbers[:n]))
assert len(set(toks)) == n, "tokens are not distinct"
for t in toks:
    print("/v/" + t)
PY
fi
echo "$(wc -l <"$work/paths.txt") distinct tokens"
curl -fsS -H 'Accept: application/json' "$base$(head -1 "$work/paths.txt")" | jq -c '{status, number: .certificate.number, status_index: .certificate.status_index}'

run_wrk() { # name, extra args...
  local name=$1; shift
  # The server's CPU time (user + system, in clock ticks) around the run:
  # CPU per request depends much less on the machine's load than req/s.
  # The machine's idle time (idle + iowait of all cores) per request: time
  # in which neither the server nor wrk had work, such as requests queued
  # for a database connection while a core waited.
  local cpu0 cpu1 idle0 idle1
  cpu0=$(awk '{print $14 + $15}' "/proc/$server_pid/stat")
  idle0=$(awk '/^cpu / {print $5 + $6}' /proc/stat)
  wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$@" >"$work/$name.out"
  cpu1=$(awk '{print $14 + $15}' "/proc/$server_pid/stat")
  idle1=$(awk '/^cpu / {print $5 + $6}' /proc/stat)
  cat "$work/$name.out" >&2
  local rps p50 p99 errs reqs cpu
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/$name.out")
  p50=$(awk '$1=="50%" {print $2}' "$work/$name.out")
  p99=$(awk '$1=="99%" {print $2}' "$work/$name.out")
  errs=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$work/$name.out")
  errs=${errs:-0}
  sock=$(awk '/Socket errors:/ {print $0}' "$work/$name.out")
  reqs=$(awk '/requests in/ {print $1}' "$work/$name.out")
  cpu=$(printf '%.1f' "$(echo "($cpu1 - $cpu0) * 1000000 / $(getconf CLK_TCK) / $reqs" | bc -l)")
  idle=$(printf '%.1f' "$(echo "($idle1 - $idle0) * 1000000 / $(getconf CLK_TCK) / $reqs" | bc -l)")
  echo "$name $rps $p50 $p99 $errs $cpu $idle ${sock:-none}"
}
echo "== wrk: $THREADS threads, $CONNS connections, $DURATION each"
# Both routes go through the same wrk script (requests formatted once),
# so that the client, which shares the machine, costs the same per request.
echo /healthz >"$work/healthz.txt"
a=$(run_wrk healthz -s "$root/bench/verify.lua" "$base" -- "$work/healthz.txt" 2>/dev/null)
b=$(run_wrk verify -s "$root/bench/verify.lua" "$base" -- "$work/paths.txt" 2>/dev/null)
read -r _ arps ap50 ap99 aerr acpu aidle asock <<<"$a"
read -r _ brps bp50 bp99 berr bcpu bidle bsock <<<"$b"
echo
printf '%-34s %12s %10s %10s %8s %14s %12s\n' route req/s p50 p99 non-2xx "server CPU/req" "idle/req"
printf '%-34s %12s %10s %10s %8s %14s %12s\n' "(a) GET /healthz" "$arps" "$ap50" "$ap99" "$aerr" "$acpu µs" "$aidle µs"
printf '%-34s %12s %10s %10s %8s %14s %12s\n' "(b) GET /v/<token> JSON ($N tokens)" "$brps" "$bp50" "$bp99" "$berr" "$bcpu µs" "$bidle µs"
printf 'ratio (b)/(a): %.1f%%\n' "$(echo "100 * $brps / $arps" | bc -l)"
[ "$aerr" = 0 ] && [ "$berr" = 0 ] || echo "WARNING: non-2xx responses"
echo "socket errors: (a) $asock (b) $bsock"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(go version | cut -d' ' -f3)"
echo "RESULT store=$STORE n=$N tokens=$(wc -l <"$work/paths.txt") import_rows_per_s=$(printf '%.0f' "$(echo "$issued / ($t1 - $t0)" | bc -l)") healthz_rps=$arps healthz_p99=$ap99 verify_rps=$brps verify_p50=$bp50 verify_p99=$bp99 ratio=$(printf '%.3f' "$(echo "$brps / $arps" | bc -l)") non2xx=$((aerr + berr)) healthz_cpu_us=$acpu verify_cpu_us=$bcpu healthz_idle_us=$aidle verify_idle_us=$bidle"
