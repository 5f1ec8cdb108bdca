#!/usr/bin/env bash
# Idempotent set-up for `make bench`, on the project's Debian machines (as root, like CI):
# PostgreSQL 15 running on 127.0.0.1:5432, wrk installed, and bench/.venv holding the baselines' extra
# dependencies plus the project itself (editable, so the bench always measures the working tree).
#
# Why a venv of its own rather than the project's .venv: the baselines need databases, SQLAlchemy,
# PyJWT and psycopg, which notes_app does not declare. In .venv they would let notes_app code or
# tests import an undeclared package without failing, and `make install` owns that venv.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -n | tail -1)" main start
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  pg_isready -h 127.0.0.1 -p 5432
fi

if ! command -v wrk >/dev/null; then
  apt-get update
  apt-get install -y wrk
fi

# Reinstall when the bench's requirements or the project's dependencies change.
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ requirements.txt -nt "$stamp" ] || [ ../pyproject.toml -nt "$stamp" ]; then
  test -x .venv/bin/python || "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r requirements.txt --editable ..
  touch "$stamp"
fi
