#!/usr/bin/env bash
# Make sure the PostgreSQL server binaries (initdb, pg_ctl) are installed. The tests start
# their own throwaway server with them (tests/support/postgres.py); no cluster is started here.
set -euo pipefail

have_postgres() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    return 0
  fi
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
      return 0
    fi
  done
  return 1
}

if have_postgres; then
  exit 0
fi

if [[ "$(id -u)" -ne 0 ]]; then
  echo "ensure-postgres: PostgreSQL server binaries (initdb, pg_ctl) not found on PATH" >&2
  echo "or in /usr/lib/postgresql/*/bin. Install them, for example:" >&2
  echo "  sudo apt-get install --no-install-recommends postgresql    # Debian/Ubuntu" >&2
  echo "  brew install postgresql                                    # macOS" >&2
  exit 1
fi

echo "ensure-postgres: installing Debian's postgresql package"
# Like the official postgres image: do not let the package create (and start) a 'main' cluster.
mkdir -p /etc/postgresql-common/createcluster.d
echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.d/ember-no-main-cluster.conf
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends postgresql

if ! have_postgres; then
  echo "ensure-postgres: installed postgresql, but initdb/pg_ctl still cannot be found" >&2
  exit 1
fi
