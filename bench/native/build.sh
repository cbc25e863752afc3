#!/usr/bin/env bash
# Builds the native PRES-2C generator (pres2c.c: C11, libc + Linux only) into bench/native/bin/pres2c-native.
# Usage: bench/native/build.sh   (CC overrides the compiler; gcc by default)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$here/bin"
"${CC:-gcc}" -std=c11 -O2 -Wall -Wextra -Werror -o "$here/bin/pres2c-native.tmp" "$here/pres2c.c" -lm
mv "$here/bin/pres2c-native.tmp" "$here/bin/pres2c-native"
echo "$here/bin/pres2c-native"
