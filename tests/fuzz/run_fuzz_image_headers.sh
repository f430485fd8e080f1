#!/usr/bin/env bash
# Runs the EDF/CBF fuzzer for a bounded time on a seed corpus of small synthetic images (an
# EDF frame and a byte-offset CBF; fabio writes the same layout).
# Usage: run_fuzz_image_headers.sh FUZZER SECONDS
set -euo pipefail
fuzzer=$1
seconds=${2:-10}
corpus="$(dirname "$fuzzer")/corpus_image_headers"
mkdir -p "$corpus"
{
  printf '{\nByteOrder = LowByteFirst ;\nDataType = SignedInteger ;\nDim_1 = 4 ;\nDim_2 = 3 ;\nSize = 48 ;\n}\n'
  head -c 48 /dev/zero | tr '\0' '\1'
} > "$corpus/edf_i32"
{
  printf '###CBF: VERSION 1.5\r\n_array_data.data\r\n;\r\n--CIF-BINARY-FORMAT-SECTION--\r\n'
  printf 'Content-Type: application/octet-stream;\r\n     conversions="x-CBF_BYTE_OFFSET"\r\n'
  printf 'X-Binary-Size: 16\r\nX-Binary-Element-Type: "signed 32-bit integer"\r\n'
  printf 'X-Binary-Number-of-Elements: 12\r\nX-Binary-Size-Fastest-Dimension: 4\r\n'
  printf 'X-Binary-Size-Second-Dimension: 3\r\n\r\n\x0c\x1a\x04\xd5'
  printf '\x01\x02\x80\x00\x01\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x00\x00'
} > "$corpus/cbf_i32"
# Findings (crash-*, timeout-*) go beside the fuzzer, never into the source tree.
"$fuzzer" -max_total_time="$seconds" -max_len=4096 -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$(dirname "$fuzzer")/" "$corpus"
