#!/usr/bin/env bash
# The project's test command: set-up of a fresh machine (scripts/setup.sh), formatting, vet,
# staticcheck, the tests with the race detector, brief fuzzing and a short load run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$(go env GOPATH)/bin:$PATH"

unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
go vet ./...
staticcheck ./...
# The alert rules: their syntax, then their unit tests.
promtool check rules scripts/deploy/prometheus/kuozheng-rules.yml
promtool test rules scripts/deploy/prometheus/kuozheng-rules-test.yml
# A package's limit: api takes 12 minutes on a quiet 2-core machine and 25 on one loaded three
# times over (a CI at 254bf68 beside three reviewers' servers and browsers hit a 25-minute limit
# mid-test); the limit is for a hung test, and the CI's own budget of 90 minutes bounds the whole.
go test -race -count=1 -timeout 50m ./...
# Brief fuzzing of every fuzz target (their seed corpora already ran as tests above), bounded by a
# count of executions, not by time: a time bound lets a busy machine's slow start end the fuzzing
# run with "context deadline exceeded", which is no crasher.
fuzz_execs=${KUOZHENG_FUZZ_EXECS:-3000}
targets=(domain:FuzzParseDate domain:FuzzParsePeriod domain:FuzzNormalizeOrgCode domain:FuzzNormalizeCreditCode domain:FuzzNormalizeCode domain:FuzzNormalizeText
  domain:FuzzFenUnmarshalJSON domain:FuzzDecode domain:FuzzAppendJSONString domain:FuzzEmployerApply api:FuzzDecodeRequest api/importer:FuzzImportRows)
for target in "${targets[@]}"; do
  if ! out=$(go test -run XXX -fuzz "^${target#*:}\$" -fuzztime "$fuzz_execs"x -fuzzminimizetime 100x "./${target%%:*}" 2>&1); then
    echo "fuzzing $target failed:"; echo "$out"; exit 1
  fi
done
echo "fuzzing: ${#targets[@]} targets, $fuzz_execs executions each: no crasher"
# The simulation again with other seeds than the tests' one, longer: each seed is another mix of
# commands against the model (seed 3 found a late-fee defect seed 2006 never reached).
for seed in 3 11 42; do
  if ! out=$(go test -count=1 -run '^TestSimulation$' ./projections -sim.seed=$seed -sim.steps=3000 -sim.payers=60 2>&1); then
    echo "simulation seed $seed failed:"; echo "$out"; exit 1
  fi
done
echo "simulation: seeds 3, 11 and 42, 3000 steps each: the ledger agrees with the model"
# A short run of the load test: mixed writes and reads with contention; the money must add up.
scripts/load.sh --seconds 10
