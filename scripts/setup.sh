#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian 12 machine: checks the .NET SDK and installs the Debian packages
# CcaSim needs (none are missing on a second run, so it does nothing then). NuGet packages are restored
# by the build itself.
set -euo pipefail

# Debian packages the project needs at build or run time. (The CPU engine and the realm payloads of later
# layers add libunicorn2 and gcc-aarch64-linux-gnu here.)
APT_PACKAGES=()

need_dotnet_major=10
if ! command -v dotnet >/dev/null 2>&1 || ! dotnet --list-sdks 2>/dev/null | grep -q "^${need_dotnet_major}\."; then
    if command -v apt-get >/dev/null 2>&1 && apt-cache show "dotnet-sdk-${need_dotnet_major}.0" >/dev/null 2>&1; then
        APT_PACKAGES+=("dotnet-sdk-${need_dotnet_major}.0")
    else
        echo "setup: the .NET ${need_dotnet_major} SDK is required (dotnet on PATH); install it, then run this again" >&2
        exit 1
    fi
fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}" >&2
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
