#!/bin/sh
# Regenerate the build system: configure, Makefile.in and the Automake TAP driver.
set -e
cd "$(dirname "$0")"
mkdir -p config m4
autoreconf --force --install --verbose
# The TAP driver ships with Automake but is only copied on request.
cp -f "$(automake --print-libdir)/tap-driver.sh" config/tap-driver.sh
chmod +x config/tap-driver.sh
