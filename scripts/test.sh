#!/usr/bin/env bash
# The project's test command: formatting, vet, staticcheck, and the tests with the race detector.
set -euo pipefail
cd "$(dirname "$0")/.."

unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
go vet ./...
if ! command -v staticcheck >/dev/null 2>&1; then
  GOBIN="$(go env GOPATH)/bin" go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
  PATH="$(go env GOPATH)/bin:$PATH"
fi
staticcheck ./...
go test -race -count=1 -timeout 15m ./...
# Brief fuzzing of every fuzz target (their seed corpora already ran as tests above).
for target in domain:FuzzParseDate domain:FuzzParsePeriod domain:FuzzNormalizeOrgCode domain:FuzzNormalizeCreditCode \
  domain:FuzzFenUnmarshalJSON api:FuzzDecodeRequest api/importer:FuzzImportRows; do
  if ! out=$(go test -run XXX -fuzz "^${target#*:}\$" -fuzztime 5s -fuzzminimizetime 1s "./${target%%:*}" 2>&1); then
    echo "fuzzing $target failed:"; echo "$out"; exit 1
  fi
done
echo "fuzzing: 7 targets, 5 s each: no crasher"
# A short run of the load test: mixed writes and reads with contention; the money must add up.
scripts/load.sh --seconds 10
