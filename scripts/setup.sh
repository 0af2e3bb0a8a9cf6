#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine, and nothing when it is already there:
# Debian's chromium (the dashboard's test drives it) with a Chinese font for its screenshots, gcc
# and libc headers (the race detector needs cgo), curl (scripts/load.sh), poppler's pdftotext (the
# printed documents' tests read their text with it), iproute2 (the network-cut test puts NATS
# nodes in network namespaces), and staticcheck.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$(go env GOPATH)/bin:$PATH"
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
# grep reads the whole list: with pipefail, grep -q leaving early can fail fc-list with SIGPIPE.
fc-list 2>/dev/null | grep -i wenquanyi >/dev/null || missing+=(fonts-wqy-microhei)
command -v gcc >/dev/null || missing+=(gcc libc6-dev)
command -v curl >/dev/null || missing+=(curl)
command -v pdftotext >/dev/null || missing+=(poppler-utils)
command -v ip >/dev/null || missing+=(iproute2)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian's ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "setup: need root (or sudo) to apt-get install ${missing[*]}" >&2; exit 1
    fi
  fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# promtool (scripts/test.sh checks and tests the alert rules with it) comes in Debian's prometheus
# package, taken without its recommends; the server it brings is stopped and disabled where
# systemd runs (elsewhere the package does not start it).
if ! command -v promtool >/dev/null 2>&1; then
  echo "setup: installing Debian's prometheus for promtool"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "setup: need root (or sudo) to apt-get install prometheus" >&2; exit 1
    fi
  fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  if [ -d /run/systemd/system ]; then $sudo systemctl disable --now prometheus >/dev/null 2>&1 || true; fi
fi
if ! command -v staticcheck >/dev/null 2>&1; then
  echo "setup: installing staticcheck"
  GOBIN="$(go env GOPATH)/bin" go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
fi
