#!/usr/bin/env bash
# /health latency while a large orders.json is checkpointed (issue target: p99 <= 20 ms).
#
# Makes a data dir with 100,000 orders of ~1 KB in orders.json plus one journal transaction on
# orders (so the file is dirty once the daemon has replayed it), starts the release build,
# runs wrk on /health for 6 s, and asks for a checkpoint (POST /api/store/checkpoint) 2 s
# into the run, while /health is being hammered. A baseline run without the checkpoint is
# printed first. Usage: bench/checkpoint_health.sh [RECORDS]
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-100000}
bin=build/astrad
[ -x "$bin" ] || make -s
tmp=$(mktemp -d /tmp/astra-bench-ckpt-XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

python3 - "$tmp/data" "$records" <<'PY'
import json, os, sys, uuid
d, n = sys.argv[1], int(sys.argv[2])
os.makedirs(d, mode=0o700)
pad = "x" * 760
with open(os.path.join(d, "orders.json"), "w") as f:
    f.write('{"version":1,"seq":1,"orders":{')
    for i in range(n):
        oid = str(uuid.UUID(int=i + 1))
        rec = {"id": oid, "instanceId": "bench", "buyerId": str(10**17 + i), "status": "delivered",
               "totalCents": 1990 + i % 100, "currency": "BRL", "createdAt": 1763800000000 + i, "note": pad}
        f.write(("," if i else "") + json.dumps(oid) + ":" + json.dumps(rec, separators=(",", ":")))
    f.write("}}")
with open(os.path.join(d, "journal.jsonl"), "w") as f:
    f.write(json.dumps({"seq": 2, "ops": [{"c": "orders", "s": None, "id": "bench-dirty", "v": {"id": "bench-dirty"}}]},
                       separators=(",", ":")) + "\n")
PY
size=$(du -m "$tmp/data/orders.json" | cut -f1)
pp=$(port); ap=$(port)
token=bench-admin-token-0123456789abcdef
PORTAL_PORT=$pp ADMIN_PORT=$ap ADMIN_PANEL_TOKEN=$token DATA_DIR=$tmp/data LOG_DIR=$tmp/logs \
  WEB_DIR=$PWD/web LOG_LEVEL=warn "$bin" >"$tmp/out.log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$pp/health" >/dev/null && break; sleep 0.1; done
echo "# $records orders (${size} MB orders.json) loaded; astrad pid $pid, LOG_LEVEL=warn"
echo "# baseline: wrk -t2 -c100 -d4s --latency http://127.0.0.1:$pp/health"
wrk -t2 -c100 -d4s --latency "http://127.0.0.1:$pp/health" | grep -E "Requests/sec|  50%|  99%|Latency "
ck0=$(curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$ap/api/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["store"]["checkpoints"])')
echo "# during a checkpoint: wrk -t2 -c100 -d6s --latency, POST /api/store/checkpoint at 2 s"
( sleep 2; curl -s -X POST -H "Authorization: Bearer $token" "http://127.0.0.1:$ap/api/store/checkpoint" >"$tmp/ck.json" ) &
ckpid=$!
wrk -t2 -c100 -d6s --latency "http://127.0.0.1:$pp/health" | grep -E "Requests/sec|  50%|  99%|Latency "
wait "$ckpid" 2>/dev/null || true
echo "# checkpoint request: $(cat "$tmp/ck.json")"
for _ in $(seq 1 100); do
  ck=$(curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$ap/api/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["store"]["checkpoints"])')
  [ "$ck" -gt "$ck0" ] && break; sleep 0.1
done
echo "# checkpoints completed: before $ck0, after $ck; orders.json now $(du -m "$tmp/data/orders.json" | cut -f1) MB"
