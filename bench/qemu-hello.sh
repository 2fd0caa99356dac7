#!/usr/bin/env bash
# The wall-time figure a user compares with (issue 12, docs/PERFORMANCE.md): the `hello` payload from process
# start to exit under ./ccasim as a realm and as a normal VM, and the same payload (its QEMU virt build, `make -C
# guests qemu`) under qemu-system-aarch64 TCG as a normal VM. Prints min/median/max over N runs and one transcript
# of each.
#
#   bench/qemu-hello.sh [N]          # N runs of each (default 10); BENCH_LOOP=1 times with a date loop even
#                                    # where hyperfine is installed
#
# Installs Debian's qemu-system-arm (it provides qemu-system-aarch64) when it is missing, as scripts/setup.sh
# installs its packages.
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
cd "$root"
runs=${1:-10}
if ! [[ "$runs" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: bench/qemu-hello.sh [N]   (N: a positive number of runs, default 10)" >&2
    exit 2
fi

# qemu-system-arm, only when missing; sudo only when not root. --no-install-recommends: the GUI, firmware and
# network-boot recommendations play no part in a -nographic -kernel run.
if ! command -v qemu-system-aarch64 >/dev/null 2>&1; then
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "qemu-hello: qemu-system-aarch64 is missing and there is no apt-get; install QEMU's aarch64 system emulator" >&2
        exit 1
    fi
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "qemu-hello: installing qemu-system-arm" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends qemu-system-arm >&2
fi

echo "qemu-hello: building the payloads (make -C guests, make -C guests qemu)" >&2
make -s -C guests >&2
make -s -C guests qemu >&2

ccasim_realm=(./ccasim run -k .build/guests/hello.bin --realm -c 2 --quiet)
ccasim_normal=(./ccasim run -k .build/guests/hello.bin --quiet)
# TCG as a normal VM: -M virt without EL2/EL3 gives a PSCI node with the HVC conduit, and hello's PSCI SYSTEM_OFF
# makes QEMU exit; the timeout only guards a payload that never gets there. -nic none: no default virtio NIC (hello
# has no network, nor has the ccasim VM, and its option ROM comes from ipxe-qemu, a recommendation not installed).
qemu=(timeout 20 qemu-system-aarch64 -M virt,gic-version=3 -cpu max -smp 2 -m 64 -nographic -no-reboot -nic none
      -kernel .build/guests/qemu/hello.bin)

# One run of each, untimed: the warm-up (the first ./ccasim may publish the CLI, the first QEMU pages its binary
# in) and the transcript that shows each really ran hello.
transcript() {
    local name=$1 want=$2 out
    shift 2
    if ! out=$("$@" </dev/null 2>&1); then
        printf '%s\n' "$out" >&2
        echo "qemu-hello: '$*' failed" >&2
        exit 1
    fi
    if ! grep -q "Hello from a CcaSim guest" <<<"$out" || ! grep -q "$want" <<<"$out"; then
        printf '%s\n' "$out" >&2
        echo "qemu-hello: '$*' did not print the greeting and '$want'" >&2
        exit 1
    fi
    echo "--- $name: $*"
    # QEMU's serial output ends lines with CR LF. The realm's attestation token (~28 lines of hex) is cut to its
    # first line.
    printf '%s\n' "$out" | tr -d '\r' | awk '
        /^TOKEN: / { if (++tokens > 1) next }
        /^TOKEN-END/ && tokens > 1 { print "TOKEN: ... (" tokens - 1 " more lines)" }
        { print }'
}
echo "qemu-hello: warm-up runs (the first ./ccasim of a checkout builds the CLI first, up to ~1 min)" >&2
transcripts=$(
    transcript "ccasim realm" "running in a realm" "${ccasim_realm[@]}"
    transcript "ccasim normal VM" "running in a normal VM" "${ccasim_normal[@]}"
    transcript "qemu TCG normal VM" "running in a normal VM" "${qemu[@]}"
)

# time_loop NAME CMD...: N runs timed with date +%s%N; prints "NAME min median max" in ms.
time_loop() {
    local name=$1 i t0 t1
    shift
    local us=()
    for ((i = 0; i < runs; i++)); do
        t0=$(date +%s%N)
        "$@" </dev/null >/dev/null 2>&1 || { echo "qemu-hello: '$*' failed" >&2; exit 1; }
        t1=$(date +%s%N)
        us+=($(((t1 - t0) / 1000)))
    done
    printf '%s\n' "${us[@]}" | sort -n | awk -v name="$name" '
        { v[NR] = $1 }
        END {
            med = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            printf "%s %.1f %.1f %.1f\n", name, v[1] / 1000, med / 1000, v[NR] / 1000
        }'
}

# time_hyperfine NAME CMD...: the same through hyperfine (no shell in between, -N; one more warm-up run).
time_hyperfine() {
    local name=$1 csv
    shift
    csv=$(mktemp)
    if ! hyperfine -N --style none --warmup 1 --runs "$runs" --export-csv "$csv" -n "$name" "$*" >/dev/null 2>&1; then
        rm -f "$csv"
        echo "qemu-hello: hyperfine '$*' failed" >&2
        exit 1
    fi
    # CSV columns: command,mean,stddev,median,user,system,min,max (seconds); the command is named by NAME, which
    # holds no comma (QEMU's -M argument does).
    awk -F, -v name="$name" 'NR == 2 { printf "%s %.1f %.1f %.1f\n", name, $7 * 1000, $4 * 1000, $8 * 1000 }' "$csv"
    rm -f "$csv"
}

timer=time_loop
how="a loop of date +%s%N"
if [ -z "${BENCH_LOOP:-}" ] && command -v hyperfine >/dev/null 2>&1; then
    timer=time_hyperfine
    how="hyperfine -N --warmup 1 ($(hyperfine --version))"
fi

results=$(
    $timer ccasim-realm "${ccasim_realm[@]}"
    $timer ccasim-normal "${ccasim_normal[@]}"
    $timer qemu-tcg "${qemu[@]}"
)

launcher="NativeAOT"
[ -f .build/ccasim/ccasim.dll ] && launcher="ReadyToRun under dotnet"
echo "hello, wall time from process start to exit, $runs runs each, timed by $how"
echo "machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "ccasim: $launcher (.build/ccasim); $(qemu-system-aarch64 --version | head -1)"
echo
printf '%-16s %10s %10s %10s\n' "" "min ms" "median ms" "max ms"
while read -r name min med max; do
    case $name in
        ccasim-realm) label="ccasim realm" ;;
        ccasim-normal) label="ccasim normal" ;;
        *) label="qemu TCG" ;;
    esac
    printf '%-16s %10s %10s %10s\n' "$label" "$min" "$med" "$max"
done <<<"$results"
echo
echo "$transcripts"
