#!/usr/bin/env bash
# Collects what the GUI-less build (kvstudio-cli + the gpu tests + kvs_bench_device) needs besides
# LibTorch and CUDA into one git-ignored folder, so a machine without a package registry (the lent
# GPU machine: no Qt, HDF5, SentencePiece, CLI11, nlohmann-json, GTest) can build from it.
#
#   bash tests/gpu/make_device_kit.sh [KIT_DIR]      (default: build-devkit/ in the checkout)
#
# Everything is a static archive or a header made by this Debian 12 machine: its glibc is older
# than the device's, so the archives link there. g++ 12 compiles them with the cxx11 std::string
# ABI (_GLIBCXX_USE_CXX11_ABI=1), which is what PyTorch's Linux wheels use since 2.7.
# The folder holds one compressed archive (kit.tar.xz) because the uncompressed libraries (ICU's
# data alone is 31 MB) do not fit the 64 MiB that travels with a device run; device_check.sh
# unpacks it. Needs the packages of .ci/setup.sh (run it first).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
kit="${1:-$repo/build-devkit}"
spm_root="${KVS_SENTENCEPIECE_ROOT:-/opt/kvstudio/sentencepiece-0.1.97}"
models_src="${KVS_KIT_MODELS:-$repo/data/models}"
arch="$(gcc -print-multiarch)"
L="/usr/lib/$arch"

log() { printf '[kit] %s\n' "$*" >&2; }
die() { printf '[kit] ERROR: %s\n' "$*" >&2; exit 1; }

stage="$(mktemp -d "${TMPDIR:-/tmp}/kvs-devkit.XXXXXX")"
trap 'rm -rf "$stage" "$stage.sums"' EXIT
mkdir -p "$stage/include" "$stage/lib/pkgconfig" "$stage/bin" "$stage/models"

need() { [ -e "$1" ] || die "$1 is missing; run 'bash .ci/setup.sh' as root first"; }
lib() { # source-archive [name-in-kit]
  need "$1"
  cp -pL "$1" "$stage/lib/${2:-$(basename "$1")}"
}
headers() { # source (file or folder) into include/
  need "$1"
  cp -rpL "$1" "$stage/include/"
}

# SentencePiece (static, against the system protobuf) + protobuf-lite it calls; its header
# includes only standard headers, so no protobuf headers are needed.
lib "$spm_root/lib/libsentencepiece.a"
headers "$spm_root/include/sentencepiece_processor.h"
lib "$L/libprotobuf-lite.a"

# HDF5 1.10 C and C++ (serial). Its settings list curl and crypto for the read-only S3 driver,
# but nothing the project calls pulls that object in; szip (libsz + libaec) and zlib are the
# filters it does reference.
for h in /usr/include/hdf5/serial/*; do headers "$h"; done
lib "$L/libhdf5_serial.a" libhdf5.a
lib "$L/libhdf5_serial_cpp.a" libhdf5_cpp.a
lib "$L/libsz.a"
lib "$L/libaec.a"
lib "$L/libz.a"

# PCRE2 (BPE pre-tokenizer regex), ICU uc + its data (NFC), OpenSSL's crypto (SHA-256).
headers /usr/include/pcre2.h
lib "$L/libpcre2-8.a"
headers /usr/include/unicode
lib "$L/libicuuc.a"
lib "$L/libicudata.a"
headers /usr/include/openssl
cp -pL "/usr/include/$arch/openssl/"*.h "$stage/include/openssl/"
lib "$L/libcrypto.a"

# Header-only libraries and the test framework.
headers /usr/include/nlohmann
headers /usr/include/CLI
headers /usr/include/gtest
lib "$L/libgtest.a"
lib "$L/libgtest_main.a"

# core/CMakeLists.txt finds PCRE2 through pkg-config, which the device may lack: a .pc file and
# a minimal pkg-config that answers from the kit's .pc files (deps_kit.cmake points CMake at it).
pcre_version="$(pkg-config --modversion libpcre2-8)"
cat >"$stage/lib/pkgconfig/libpcre2-8.pc" <<PC
Name: libpcre2-8
Description: PCRE2 8-bit (static, from the KV Studio device kit)
Version: $pcre_version
Libs: -lpcre2-8
Cflags:
PC
cp "$repo/tests/gpu/kit_pkg_config.sh" "$stage/bin/pkg-config"
chmod +x "$stage/bin/pkg-config"

# Model files of the gpu tests and the measurements' tokenizer (small ones only).
for m in stories260K.bin tok512.model tok512.bin tokenizer.model; do
  need "$models_src/$m"
  cp -pL "$models_src/$m" "$stage/models/"
done

# What made the kit, so a device log can be matched to it.
{
  echo "made: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname)"
  echo "compiler: $(g++ --version | head -1)"
  echo "glibc: $(ldd --version | head -1)"
  echo "cxx11_abi_default: $(echo '#include <string>' | g++ -x c++ -dM -E - |
    awk '$2 == "_GLIBCXX_USE_CXX11_ABI" {print $3}')"
  for p in libhdf5-dev libprotobuf-dev libpcre2-dev libicu-dev libssl-dev nlohmann-json3-dev \
    libcli11-dev libgtest-dev libaec-dev zlib1g-dev; do
    echo "package: $p $(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || echo '?')"
  done
  echo "sentencepiece: $spm_root"
} >"$stage/MANIFEST"
(cd "$stage" && find . -type f | sort | xargs sha256sum) >"$stage.sums"
mv "$stage.sums" "$stage/SHA256SUMS"

log "packing $(du -sh "$stage" | cut -f1) of headers and archives (xz, about a minute)"
mkdir -p "$kit"
rm -f "$kit/kit.tar.xz.part"
tar -C "$stage" -cf - . | xz -T0 -6 >"$kit/kit.tar.xz.part"
mv "$kit/kit.tar.xz.part" "$kit/kit.tar.xz"
cp "$stage/MANIFEST" "$kit/MANIFEST"
(cd "$stage" && find . -type f -printf '%s\t%p\n' | sort -k2) >"$kit/CONTENTS"

bytes=$(du -cb "$kit/kit.tar.xz" "$kit/MANIFEST" "$kit/CONTENTS" | tail -1 | cut -f1)
log "kit: $kit ($((bytes / 1048576)) MiB, $bytes bytes; unpacked $(du -sh "$stage" | cut -f1)); carry $(basename "$kit")/kit.tar.xz"
[ "$bytes" -lt $((56 * 1024 * 1024)) ] ||
  die "the kit is $bytes bytes: with the checkout it would not fit the 64 MiB a device run carries"
echo "$kit"
