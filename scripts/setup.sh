#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian 12 machine: checks the .NET SDK and installs the Debian packages
# CcaSim needs (none are missing on a second run, so it does nothing then). NuGet packages are restored
# by the build itself.
set -euo pipefail

# Debian packages the project needs at build or run time. (The CPU engine and the realm payloads of later
# layers add libunicorn2 and gcc-aarch64-linux-gnu here.)
APT_PACKAGES=()
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
