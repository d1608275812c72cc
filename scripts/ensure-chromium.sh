#!/usr/bin/env bash
# Make sure Debian's chromium is installed at /usr/bin/chromium. The studio's end-to-end tests
# (tests/studio/) drive it through Python Playwright with executable_path, so we never run
# `playwright install` (which downloads browsers from outside the package registries).
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [[ -x "$CHROMIUM" ]]; then
  exit 0
fi

if [[ "$(id -u)" -ne 0 ]]; then
  echo "ensure-chromium: $CHROMIUM not found. Install it, for example:" >&2
  echo "  sudo apt-get install --no-install-recommends chromium    # Debian" >&2
  echo "The studio browser tests (tests/studio/) skip without it outside CI and fail in CI." >&2
  exit 1
fi

echo "ensure-chromium: installing Debian's chromium package"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends chromium fonts-dejavu-core

if [[ ! -x "$CHROMIUM" ]]; then
  echo "ensure-chromium: installed chromium, but $CHROMIUM still does not exist" >&2
  exit 1
fi
