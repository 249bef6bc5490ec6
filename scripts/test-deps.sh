#!/usr/bin/env bash
# System packages the test suite drives for real: headless Chromium + driver (browser
# tests), PostgreSQL (storage tests), Redis and nginx (scale-out profile).
# Installed from Debian's packages when missing; needs root (as CI and these machines are).
set -euo pipefail
need=()
command -v chromium >/dev/null || need+=(chromium)
command -v chromedriver >/dev/null || need+=(chromium-driver)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null || need+=(redis-server)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx)
[ ${#need[@]} -eq 0 ] && exit 0
echo "==> installing system packages: ${need[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "ERROR: need root to install ${need[*]} (or install them yourself)." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Debian starts services on install; the tests start their own on free ports.
for service in postgresql redis-server nginx; do
  service "$service" stop >/dev/null 2>&1 || true
done
