#!/usr/bin/env bash
# A minimal pkg-config for the device kit: the GPU machine may have no pkg-config, and
# core/CMakeLists.txt finds PCRE2 through it. Answers CMake's FindPkgConfig queries from the
# .pc files in <kit>/lib/pkgconfig only (never the system's), so the kit's archives are linked.
kit="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pcdir="$kit/lib/pkgconfig"

query="" modules=()
for a in "$@"; do
  case "$a" in
    --version) echo "0.29.2"; exit 0 ;;
    --print-errors | --short-errors | --static) ;;
    --*) query="$a" ;;
    *) modules+=("${a%%[ <>=]*}") ;;
  esac
done

for m in "${modules[@]}"; do
  [ -f "$pcdir/$m.pc" ] || { echo "Package $m was not found in the device kit" >&2; exit 1; }
done

field() { sed -n "s/^$1: *//p" "$pcdir/$2.pc"; }
for m in "${modules[@]}"; do
  case "$query" in
    --modversion) field Version "$m" ;;
    --cflags-only-I | --cflags) echo "-I$kit/include" ;;
    --libs-only-L) echo "-L$kit/lib" ;;
    --libs-only-l) field Libs "$m" ;;
    --libs) echo "-L$kit/lib $(field Libs "$m")" ;;
    --variable=prefix) echo "$kit" ;;
    --variable=includedir) echo "$kit/include" ;;
    --variable=libdir) echo "$kit/lib" ;;
    *) echo "" ;;  # --exists, --cflags-only-other, --libs-only-other, other variables
  esac
done
exit 0
