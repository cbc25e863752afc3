#!/usr/bin/env bash
# Builds the native PRES-2C generator (pres2c.c: C11, libc + Linux only) into bench/native/bin/pres2c-native.
# Usage: bench/native/build.sh [OUTPUT]   (default OUTPUT: bench/native/bin/pres2c-native; CC overrides gcc)
# Prints the path of the built program.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/bin/pres2c-native}"
mkdir -p "$(dirname "$out")"
tmp="$out.tmp.$$"
"${CC:-gcc}" -std=c11 -O2 -Wall -Wextra -Werror -o "$tmp" "$here/pres2c.c" -lm || { rm -f "$tmp"; exit 1; }
mv -f "$tmp" "$out"
echo "$out"
