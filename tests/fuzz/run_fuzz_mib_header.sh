#!/usr/bin/env bash
# Runs the MIB header fuzzer for a bounded time on a seed corpus of real headers (the first
# KiB of every .mib and every .hdr in ../shared/data/mib, when present) plus one synthetic header.
# Usage: run_fuzz_mib_header.sh FUZZER SECONDS
set -euo pipefail
fuzzer=$1
seconds=${2:-30}
root="$(cd "$(dirname "$0")/../.." && pwd)"
corpus="$(dirname "$fuzzer")/corpus_mib_header"
mkdir -p "$corpus"
printf 'MQ1,000001,00384,01,0256,0256,U16,   1x1,01,2021-04-15 14:43:00.835428,0.001000,0,0,0,MQ1A,2021-04-15T13:43:00.835428351Z,1000000ns,12,' \
  > "$corpus/synthetic_u16"
if [ -d "$root/../shared/data/mib" ]; then
  for f in "$root"/../shared/data/mib/*/*.mib; do head -c 1024 "$f" > "$corpus/$(basename "$f").head"; done
  for f in "$root"/../shared/data/mib/*/*.hdr; do cp "$f" "$corpus/$(basename "$f")"; done
fi
# Findings (crash-*, timeout-*) go beside the fuzzer, never into the source tree.
"$fuzzer" -max_total_time="$seconds" -max_len=4096 -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$(dirname "$fuzzer")/" "$corpus"
