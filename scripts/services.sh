#!/usr/bin/env bash
# Make sure what the test suite talks to is there: PostgreSQL (127.0.0.1:5432, trust,
# database test), MariaDB (127.0.0.1:3306, root, no password, database test) and Debian's
# Chromium for the browser tests. Installs and starts only what is missing; fails loudly.
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then as_root apt-get -o DPkg::Lock::Timeout=600 update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get -o DPkg::Lock::Timeout=600 install -y -qq "$@" >/dev/null
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() {
  for _ in $(seq 1 60); do port_open "$1" && return 0; sleep 1; done
  echo "nothing answers on 127.0.0.1:$1" >&2; return 1
}

if ! port_open 5432; then
  command -v pg_ctlcluster >/dev/null || apt_install postgresql
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  wait_port 5432
  as_root su postgres -c "psql -tc \"SELECT 1 FROM pg_database WHERE datname='test'\" | grep -q 1 || createdb test" || true
fi
if ! port_open 3306; then
  command -v mariadbd >/dev/null || apt_install mariadb-server
  as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
  wait_port 3306
  as_root mariadb -uroot -e "CREATE DATABASE IF NOT EXISTS test" || true
fi
if ! command -v chromium >/dev/null; then
  apt_install chromium
fi
command -v chromium >/dev/null || { echo "Chromium is missing and could not be installed" >&2; exit 1; }
