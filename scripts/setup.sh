#!/usr/bin/env bash
# Create .venv (once) and install the project with its development tools.
# Idempotent: a second run only checks that everything is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "creditindex needs Python 3.11 or newer ($PY is $("$PY" --version))" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
# PDFs (check certificates, credit reports) need a CJK font with Latin glyphs: Debian's
# WenQuanYi Zen Hei. Installed when missing; failing to install it fails the set-up.
CJK_FONT=/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc
if [ ! -f "$CJK_FONT" ]; then
  echo "installing fonts-wqy-zenhei (CJK font for PDFs)" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! { apt-get install -y -q fonts-wqy-zenhei >/dev/null \
         || { apt-get update -q >/dev/null && apt-get install -y -q fonts-wqy-zenhei >/dev/null; }; }; then
    echo "ERROR: could not install fonts-wqy-zenhei ($CJK_FONT); PDFs cannot be made" >&2
    exit 1
  fi
  [ -f "$CJK_FONT" ] || { echo "ERROR: $CJK_FONT missing after install" >&2; exit 1; }
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e '.[dev]'
  rm -f .venv/.installed-*
  touch "$stamp"
fi
