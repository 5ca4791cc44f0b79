#!/usr/bin/env bash
# Mixed-load benchmark (BENCHMARKS.md, "Mixed load"): builds skillreg, starts
# it on a temporary data directory, seeds certificates through CSV imports,
# then runs verification, lookups, logins, statistics reads and issuance
# for a fixed time and prints the per-endpoint figures and the server's
# memory. Flags go to the generator, e.g. bench/mixed.sh -seed 100000 -duration 60s
set -euo pipefail
cd "$(dirname "$0")/.."
exec go run ./bench/mixedload "$@"
