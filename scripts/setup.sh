#!/usr/bin/env bash
# Create .venv (once) and install the project.
#   bash scripts/setup.sh        everything the tests need: the development tools, the Spark
#                                extra, Java (for Spark) and a CJK font (for PDFs) when missing
#   bash scripts/setup.sh run    only what running the product needs (the demo): the package
#                                and the CJK font; no Java, no Spark, no test tools
# Idempotent: a second run only checks that everything is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE=${1:-all}
case "$PROFILE" in
  all) EXTRAS='[dev,spark]' ;;
  run) EXTRAS='' ;;
  *) echo "usage: setup.sh [all|run]" >&2; exit 2 ;;
esac
PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "creditindex needs Python 3.11 or newer ($PY is $("$PY" --version))" >&2
  exit 1
fi
# Spark 4 runs on Java 17 or 21: install Debian's headless JRE when java is missing.
java_major() {
  local v
  v=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
  echo "${v:-0}"
}
if [ "$PROFILE" = all ] && { ! command -v java >/dev/null 2>&1 || [ "$(java_major)" -lt 17 ]; }; then
  echo "installing a Java runtime for Spark (default-jre-headless)" >&2
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
           default-jre-headless >/dev/null; }; then
    echo "setup.sh: could not install Java (default-jre-headless); Spark needs Java 17+" >&2
    exit 1
  fi
  if [ "$(java_major)" -lt 17 ]; then
    echo "setup.sh: java is $(java_major), Spark 4 needs 17 or newer" >&2
    exit 1
  fi
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
# The stamp names what is installed: a full install also serves the demo, not the reverse.
hash=$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f ".venv/.installed-all-$hash" ] && [ ! -f ".venv/.installed-$PROFILE-$hash" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".$EXTRAS"
  rm -f .venv/.installed-*
  touch ".venv/.installed-$PROFILE-$hash"
fi
