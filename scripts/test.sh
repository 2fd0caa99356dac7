#!/usr/bin/env bash
# The project's test command: set-up (idempotent), then every xunit test of the solution in Release.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
cd "$root"
dotnet test CcaSim.sln -c Release --nologo "$@"
