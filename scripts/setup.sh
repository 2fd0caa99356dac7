#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian 12 machine: checks the .NET SDK and installs the Debian packages
# CcaSim needs (none are missing on a second run, so it does nothing then). NuGet packages are restored
# by the build itself.
set -euo pipefail

# Debian packages the project needs at build or run time: the AArch64 cross toolchain that builds the guest
# payloads in guests/ (gcc, binutils and objcopy for aarch64-linux-gnu) and make, which drives that build; and
# dtc (device-tree-compiler), with which the VMM tests decompile the device trees the VMM generates; and
# libcapstone4, the disassembler `ccasim run --trace` shows faulting instructions with (loaded at run time; without
# it the trace carries the instruction word only, and the disassembler's tests fail).
APT_PACKAGES=(gcc-aarch64-linux-gnu make device-tree-compiler libcapstone4)
# The NativeAOT toolchain for ./ccasim: clang drives the native link (it brings libc6-dev and binutils, whose
# objcopy strips the symbols). Nothing else: the SDK's NativeAOT packages (restored from NuGet) carry their own
# zlib, brotli and runtime libraries, and libcrypto is loaded at run time. Optional: where it cannot be installed,
# ./ccasim builds ReadyToRun instead.
APT_OPTIONAL_PACKAGES=(clang)

need_dotnet_major=10
if ! command -v dotnet >/dev/null 2>&1 || ! dotnet --list-sdks 2>/dev/null | grep -q "^${need_dotnet_major}\."; then
    if command -v apt-get >/dev/null 2>&1 && apt-cache show "dotnet-sdk-${need_dotnet_major}.0" >/dev/null 2>&1; then
        APT_PACKAGES+=("dotnet-sdk-${need_dotnet_major}.0")
    else
        echo "setup: the .NET ${need_dotnet_major} SDK is required (dotnet on PATH); install it, then run this again" >&2
        exit 1
    fi
fi

# apt_install REQUIRED PACKAGE...: installs those of the packages that are not installed yet; a failure is
# fatal only when REQUIRED is yes.
apt_install() {
    local required=$1 p sudo=""
    shift
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if ! command -v apt-get >/dev/null 2>&1; then
        [ "$required" = yes ] && { echo "setup: install ${missing[*]} (no apt-get here), then run this again" >&2; exit 1; }
        echo "setup: optional ${missing[*]} not installed (no apt-get here)" >&2
        return 0
    fi
    echo "setup: installing ${missing[*]}" >&2
    # An optional package never stops at a password prompt (sudo -n fails instead, and the build goes on without).
    if [ "$(id -u)" -ne 0 ]; then
        if [ "$required" = yes ]; then sudo="sudo"; else sudo="sudo -n"; fi
    fi
    if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"; }; then
        [ "$required" = yes ] && { echo "setup: could not install ${missing[*]}" >&2; exit 1; }
        echo "setup: could not install optional ${missing[*]}; going on without" >&2
    fi
}

apt_install yes ${APT_PACKAGES[@]+"${APT_PACKAGES[@]}"}
apt_install no "${APT_OPTIONAL_PACKAGES[@]}"

# The CPU engine's library: Unicorn 2.1.1 as Debian 13 packages it (libunicorn2t64), unpacked into .build/unicorn.
# It is 40-60x faster on guest stores than Debian 12's 2.0.1 and maps non-identity guest VAs correctly
# (unicorn-2.0.1.md §11). It is fetched with a private sources list and apt state under .build, so the
# system's apt sources and package database are never touched (adding trixie to them would offer a libc6
# upgrade). Where it cannot be fetched, Debian 12's libunicorn2 (2.0.1, same soname and ABI) is installed
# instead and the engine runs on it, slower.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
unicorn_dir="$root/.build/unicorn"
unicorn_version="2.1.1"
# The Debian archive mirrors this machine's own apt sources name (uncommented lines, one-line or deb822 form),
# then the public archive.
debian_mirrors() {
    { grep -hvE '^[[:space:]]*#' /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | grep -oE 'https?://[^ ]+' | grep -vE 'security|updates|backports' | sed 's|/*$||'
      echo "http://deb.debian.org/debian"; } | awk '!seen[$0]++'
}
# fetch_unicorn MIRROR: downloads and unpacks libunicorn2t64 from MIRROR's trixie suite.
fetch_unicorn() {
    local mirror=$1 state="$unicorn_dir/apt" deb
    rm -rf "$state" && mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/deb"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" >"$state/sources.list"
    local opts=(-o "Dir::Etc::sourcelist=$state/sources.list" -o Dir::Etc::sourceparts=- -o "Dir::State::Lists=$state/lists"
        -o "Dir::Cache=$state/cache" -o APT::Get::List-Cleanup=0 -o Debug::NoLocking=1 -o Acquire::Retries=2 -qq)
    # apt-get update only warns when an index cannot be fetched; the download below is what fails then.
    apt-get "${opts[@]}" update >>"$unicorn_dir/fetch.log" 2>&1 || return 1
    (cd "$state/deb" && apt-get "${opts[@]}" download "libunicorn2t64=${unicorn_version}*" >>"$unicorn_dir/fetch.log" 2>&1) || return 1
    deb="$(ls "$state"/deb/libunicorn2t64_*.deb 2>/dev/null | head -n1)"
    [ -n "$deb" ] && dpkg-deb -x "$deb" "$state/root" || return 1
    mkdir -p "$unicorn_dir/lib"
    cp "$state/root/usr/lib/x86_64-linux-gnu/libunicorn.so.2" "$unicorn_dir/lib/libunicorn.so.2.tmp" || return 1
    mv "$unicorn_dir/lib/libunicorn.so.2.tmp" "$unicorn_dir/lib/libunicorn.so.2"
    echo "$unicorn_version" >"$unicorn_dir/lib/VERSION"
    rm -rf "$state"
}
if [ "$(cat "$unicorn_dir/lib/VERSION" 2>/dev/null)" != "$unicorn_version" ] || [ ! -f "$unicorn_dir/lib/libunicorn.so.2" ]; then
    if [ "$(uname -m)" = x86_64 ] && command -v apt-get >/dev/null 2>&1 && command -v dpkg-deb >/dev/null 2>&1; then
        echo "setup: fetching Unicorn ${unicorn_version} (Debian 13 libunicorn2t64) into .build/unicorn" >&2
        mkdir -p "$unicorn_dir" && : >"$unicorn_dir/fetch.log"
        for mirror in $(debian_mirrors); do
            fetch_unicorn "$mirror" && break
        done
        rm -rf "$unicorn_dir/apt"
        [ -f "$unicorn_dir/lib/libunicorn.so.2" ] || echo "setup: Unicorn ${unicorn_version} could not be fetched (log: .build/unicorn/fetch.log)" >&2
    fi
    if [ ! -f "$unicorn_dir/lib/libunicorn.so.2" ]; then
        echo "setup: falling back to Debian 12's libunicorn2 (2.0.1; guest stores are slower)" >&2
        apt_install yes libunicorn2
    fi
fi
