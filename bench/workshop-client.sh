#!/usr/bin/env bash
# One learner through the whole router lab on a workshop server at
# http://127.0.0.1:${PORT:-8080}: join, start, a console command (veth
# pair, iptables), then every step solved and checked (step 6's answer is
# the TTL). Prints `works` or what broke first. Used by
# bench/capabilities.sh and bench/capabilities-docker.sh.
B=http://127.0.0.1:${PORT:-8080}
cd "$(mktemp -d)" || exit 1
for _ in $(seq 100); do curl -sf -o /dev/null "$B/api/health" && break; sleep 0.1; done
J=(-s -b jar -c jar -o out -w '%{http_code}' --max-time 120)
why() { sed -n 's/.*"error":"\([^"]*\)".*/\1/p' out | head -c 160; }
json=(-H 'content-type: application/json')
code=$(curl "${J[@]}" "${json[@]}" -d '{"code":"capbench-2026","name":"bench"}' "$B/api/workshop/join")
[ "$code" = 200 ] || { echo "join: HTTP $code $(why)"; exit; }
code=$(curl "${J[@]}" -X POST "$B/api/labs/router/start")
[ "$code" = 200 ] || { echo "start: $(why)"; exit; }
curl "${J[@]}" "${json[@]}" -d '{"command":"ip link add va type veth peer name vb && iptables -L >/dev/null && echo fine"}' \
  "$B/api/labs/router/console" >/dev/null
grep -q '"exit":0' out || { echo "console: $(head -c 160 out)"; exit; }
for step in 1 2 3 4 5 6; do
  code=$(curl "${J[@]}" -X POST "$B/api/labs/router/steps/$step/solve")
  [ "$code" = 200 ] || { echo "solve step $step: $(why)"; exit; }
  body='{}'
  [ "$step" = 6 ] && body='{"answer":"63"}'
  curl "${J[@]}" "${json[@]}" -d "$body" "$B/api/labs/router/steps/$step/check" >/dev/null
  grep -q '"event":"step".*"passed":true' out || {
    echo "check step $step failed: $(grep -o '"passed":false[^}]*"message":"[^"]*"' out | head -1 | sed 's/.*"message"://' | head -c 160)"
    exit
  }
done
echo works
