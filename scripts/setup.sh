#!/usr/bin/env bash
# Installs what quorate's tests, lab and benchmarks need, as on a new Debian 12 machine.
# Idempotent and quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(gobgpd bird2 frr golang-github-osrg-gobgp-dev iproute2 iputils-arping ndisc6 tcpdump exabgp procps util-linux curl openssl nftables keepalived ipv6toolkit docker-compose python3-jsonschema)

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: missing Debian packages (${missing[*]}); run as root to install them" >&2
  else
    echo "setup: installing ${missing[*]}" >&2
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
fi

# npm ci when node_modules is missing or older than the lock file.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npx tsc -p tsconfig.json
# The tests are type-checked too (vitest itself only strips types).
npx tsc -p tsconfig.test.json
