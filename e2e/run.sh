#!/usr/bin/env bash
# Runs the end-to-end tests in e2e/ (Playground in a browser, the graphql-http
# audit, Relay): installs what is missing (Debian's chromium, python3, Node.js
# and npm, the npm packages of package-lock.json), then runs them with node's
# test runner. Needs root for apt-get; the Go toolchain builds the gateway.
# Usage: bash e2e/run.sh   (from anywhere)
set -euo pipefail
cd "$(dirname "$0")"

apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  echo "e2e: $chromium is missing: installing Debian's chromium"
  apt_install chromium
fi
if ! command -v python3 >/dev/null 2>&1; then
  echo "e2e: python3 is missing (a test reads the gateway's errors with urllib): installing Debian's python3"
  apt_install python3
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "e2e: node/npm are missing: installing Debian's nodejs and npm"
  apt_install nodejs npm
fi
echo "e2e: $("$chromium" --version 2>/dev/null | head -n1), node $(node --version), npm $(npm --version)"

# npm ci installs exactly package-lock.json; playwright-core downloads no browser,
# relay-compiler ships its binary inside the package.
npm ci --no-audit --no-fund --loglevel=error
npm test
