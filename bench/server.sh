#!/usr/bin/env bash
# Load test: `layerlab serve` against nginx serving the very same
# /api/course JSON (nginx with gzip_static and the same gzip bytes for the
# compressed run), same wrk load, same machine, one after the other.
#
#   bash bench/server.sh            # 10 s per run, 64 connections, 2 wrk threads
#   DURATION=30s CONNECTIONS=128 bash bench/server.sh
#
# Prints requests/s and p99 latency for each server, with and without
# gzip, and the layerlab/nginx ratio. Exits 1 if layerlab serves fewer than
# MIN_RPS (default 10000) plain requests per second. Only loopback traffic.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
MIN_RPS=${MIN_RPS:-10000}
PORT_LAYERLAB=${PORT_LAYERLAB:-18181}
PORT_NGINX=${PORT_NGINX:-18182}

need=()
for tool in wrk nginx curl; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || need+=("$tool")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "==> installing ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "missing: ${need[*]} (install them, e.g. apt-get install ${need[*]})" >&2
    exit 1
  fi
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

echo "==> building layerlab (release)"
cargo build --release -p layerlab --locked -q
BIN=target/release/layerlab

WORK=$(mktemp -d)
LAYERLAB_PID=""
NGINX_PID=""
cleanup() {
  [ -n "$LAYERLAB_PID" ] && kill "$LAYERLAB_PID" 2>/dev/null && wait "$LAYERLAB_PID" 2>/dev/null
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

# Request logs off (the default filter): both servers do the same work.
RUST_LOG=warn "$BIN" serve --port "$PORT_LAYERLAB" 2>"$WORK/layerlab.log" &
LAYERLAB_PID=$!
for _ in $(seq 100); do
  "$BIN" serve --port "$PORT_LAYERLAB" --health-check 2>/dev/null && break
  sleep 0.1
done
"$BIN" serve --port "$PORT_LAYERLAB" --health-check

# nginx serves the bytes layerlab serves, plus the same gzip encoding.
mkdir -p "$WORK/www/api" "$WORK/tmp"
curl -sf "http://127.0.0.1:$PORT_LAYERLAB/api/course" -o "$WORK/www/api/course"
curl -sf -H 'Accept-Encoding: gzip' "http://127.0.0.1:$PORT_LAYERLAB/api/course" -o "$WORK/www/api/course.gz"
cat >"$WORK/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nodelay on;
  keepalive_requests 1000000;
  gzip_static on;
  gzip_vary on;
  client_body_temp_path $WORK/tmp;
  proxy_temp_path $WORK/tmp;
  fastcgi_temp_path $WORK/tmp;
  uwsgi_temp_path $WORK/tmp;
  scgi_temp_path $WORK/tmp;
  default_type application/json;
  server {
    listen 127.0.0.1:$PORT_NGINX;
    root $WORK/www;
    location = /api/course { add_header Cache-Control no-cache; }
  }
}
EOF
# nginx started as root reads files as "nobody": mktemp's folder is private.
chmod -R a+rX "$WORK"
"$NGINX" -c "$WORK/nginx.conf" -p "$WORK" &
NGINX_PID=$!
for _ in $(seq 100); do
  curl -sf -o /dev/null "http://127.0.0.1:$PORT_NGINX/api/course" && break
  sleep 0.1
done
cmp <(curl -sf "http://127.0.0.1:$PORT_LAYERLAB/api/course") \
    <(curl -sf "http://127.0.0.1:$PORT_NGINX/api/course")
cmp <(curl -sf -H 'Accept-Encoding: gzip' "http://127.0.0.1:$PORT_LAYERLAB/api/course") \
    <(curl -sf -H 'Accept-Encoding: gzip' "http://127.0.0.1:$PORT_NGINX/api/course")
SIZE=$(wc -c <"$WORK/www/api/course")
GZSIZE=$(wc -c <"$WORK/www/api/course.gz")

# Runs wrk and prints "requests/s p99".
load() {
  local url=$1; shift
  wrk -t1 -c8 -d2s "$@" "$url" >/dev/null # warm-up
  local out
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$url")
  if grep -q "Non-2xx" <<<"$out"; then
    echo "non-2xx responses from $url:" >&2
    echo "$out" >&2
    exit 1
  fi
  local rps p99
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  echo "$rps $p99"
}

echo "==> wrk -t$THREADS -c$CONNECTIONS -d$DURATION on $(nproc) cores; /api/course is $SIZE bytes ($GZSIZE gzipped)"
read -r L_RPS L_P99 < <(load "http://127.0.0.1:$PORT_LAYERLAB/api/course")
read -r N_RPS N_P99 < <(load "http://127.0.0.1:$PORT_NGINX/api/course")
read -r LG_RPS LG_P99 < <(load "http://127.0.0.1:$PORT_LAYERLAB/api/course" -H 'Accept-Encoding: gzip')
read -r NG_RPS NG_P99 < <(load "http://127.0.0.1:$PORT_NGINX/api/course" -H 'Accept-Encoding: gzip')

printf '%-22s %12s %10s\n' "" "requests/s" "p99"
printf '%-22s %12.0f %10s\n' "layerlab serve" "$L_RPS" "$L_P99"
printf '%-22s %12.0f %10s\n' "nginx" "$N_RPS" "$N_P99"
printf '%-22s %12.0f %10s\n' "layerlab serve (gzip)" "$LG_RPS" "$LG_P99"
printf '%-22s %12.0f %10s\n' "nginx (gzip)" "$NG_RPS" "$NG_P99"
awk -v l="$L_RPS" -v n="$N_RPS" -v lg="$LG_RPS" -v ng="$NG_RPS" \
  'BEGIN { printf "ratio layerlab/nginx: %.2f plain, %.2f gzip\n", l / n, lg / ng }'
if awk -v l="$L_RPS" -v m="$MIN_RPS" 'BEGIN { exit !(l < m) }'; then
  echo "FAIL: layerlab served $L_RPS requests/s, below $MIN_RPS" >&2
  exit 1
fi
echo "ok: layerlab serves at least $MIN_RPS requests/s"
