#!/usr/bin/env bash
# The curl checks of docs/server.md against a running `internvl serve`:
#   scripts/server/curl-checks.sh http://127.0.0.1:PORT KEY IMAGE.png
# Exits non-zero at the first check that fails.
set -euo pipefail
base=$1 key=$2 image=$3
uri="data:image/png;base64,$(base64 -w0 "$image")"
fail() { echo "FAIL: $*" >&2; exit 1; }

curl -sf "$base/health" >/dev/null || fail "/health"
curl -sf -H "Authorization: Bearer $key" "$base/v1/models" | grep -q '"data"' || fail "/v1/models has no data"

body=$(printf '{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"%s"}},{"type":"text","text":"describe the image"}]}],"max_tokens":16%s}' "$uri" "%s")
printf "${body/\%s/}" > /tmp/internvl-chat.$$.json
printf "${body/\%s/,\"stream\":true}" > /tmp/internvl-stream.$$.json
trap 'rm -f /tmp/internvl-*.$$.json' EXIT

code=$(curl -s -o /tmp/internvl-out.$$.json -w '%{http_code}' -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
  --data @/tmp/internvl-chat.$$.json "$base/v1/chat/completions")
[ "$code" = 200 ] && grep -q '"choices"' /tmp/internvl-out.$$.json || fail "chat completion: $code $(cat /tmp/internvl-out.$$.json)"

curl -sN -H "Authorization: Bearer $key" -H 'Content-Type: application/json' --data @/tmp/internvl-stream.$$.json \
  "$base/v1/chat/completions" | tail -n 2 | grep -q '^data: \[DONE\]' || fail "stream does not end with data: [DONE]"

code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer wrong-$key" "$base/v1/models")
[ "$code" = 401 ] || fail "wrong key gave $code, not 401"

out=$(curl -s -w ' %{http_code}' -H "Authorization: Bearer $key" -H 'Content-Type: application/json' --data '{"messages": [' "$base/v1/chat/completions")
[[ "$out" == *'"error"'*' 400' ]] || fail "malformed JSON: $out"

pids=()
for i in $(seq 8); do
  (curl -sN -H "Authorization: Bearer $key" -H 'Content-Type: application/json' --data @/tmp/internvl-stream.$$.json \
     "$base/v1/chat/completions" | tail -n 2 | grep -q '^data: \[DONE\]') &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "one of 8 concurrent streams did not end with [DONE]"; done
rm -f /tmp/internvl-out.$$.json
echo "all curl checks passed"
