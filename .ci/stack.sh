#!/usr/bin/env bash
# Build the image with podman and run the compose stack end to end: PostgreSQL, Redis, the migration, web,
# 2 workers and 2 clocks; create an account, post an event, see its dropoff through the public port; tear down.
# Base and stand-in images and the dependency layer are cached under $CONTAINER_WORK between runs.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export WORK=${CONTAINER_WORK:-/var/tmp/reengage-ci}
mkdir -p "$WORK"
# One run at a time on a machine: runs share the compose project, its volumes, the images and the cache. The
# lock is held by flock alone (-o), so no container process outlives the run holding it.
[ -n "${STACK_LOCKED:-}" ] || STACK_LOCKED=1 exec flock -o "$WORK/lock" "$0" "$@"
# shellcheck source=images.sh
source "$ROOT/.ci/images.sh"
tools; configure
# A build cut off (its run killed) leaves working containers behind that hold the images they were made from, and
# tagging or pruning those images then fails: under the lock no other build runs, so any found are leftovers.
podman ps -a --external --format '{{.ID}} {{.Status}}' | awk '$2 == "Storage" {print $1}' | xargs -r podman rm -f >/dev/null
base; standins
t podman build --pull=never --format docker -q -t localhost/reengage:latest "$ROOT" >/dev/null
podman image prune -f >/dev/null  # earlier builds of the code layers; the cached dependency layer stays

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_ready() {  # wait_ready URL SECONDS: until the URL answers 200
  for _ in $(seq 1 "$2"); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 1; done
  echo "not ready: $1"; curl -sS "$1" || true; return 1
}

# 1. The image alone runs the embedded default, as a user other than root, and becomes healthy.
port=$(free_port)
cid=$(podman run -d -p "127.0.0.1:$port:8000" localhost/reengage:latest)
trap 'podman rm -f -t 2 "$cid" >/dev/null 2>&1 || true' EXIT
wait_ready "http://127.0.0.1:$port/healthz" 60 || { podman logs "$cid" | tail -20; exit 1; }
[ "$(podman exec "$cid" id -u)" != 0 ] || { echo "the image runs as root"; exit 1; }
podman rm -f -t 2 "$cid" >/dev/null
echo "image: healthy on the embedded default, not root"

# 2. The compose stack, scaled out.
WEB_PORT=$(free_port)
export WEB_PORT POSTGRES_PASSWORD="ci-$(openssl rand -hex 8)" SECRET_KEY="$(openssl rand -hex 32)" \
       PUBLIC_URL="http://127.0.0.1:$WEB_PORT" METRICS_TOKEN="ci-metrics" CLOCK_INTERVAL_SECONDS=1 WORKERS=2 CLOCKS=2
PC=("$WORK/pc-venv/bin/podman-compose" -p reengage-ci -f "$ROOT/compose.yaml")
down() {  # podman-compose's `down -v` leaves named volumes behind: remove them too, for a fresh database
  "${PC[@]}" down -v -t 2 >/dev/null 2>&1 || true
  podman volume rm -f reengage-ci_pgdata reengage-ci_metrics >/dev/null 2>&1 || true
  podman volume prune -f >/dev/null 2>&1 || true
}
down
trap '"${PC[@]}" logs > "$WORK/stack.log" 2>&1 || true; down' EXIT
"${PC[@]}" config >/dev/null
t "${PC[@]}" up -d >"$WORK/up.log" 2>&1 || { tail -20 "$WORK/up.log"; exit 1; }
wait_ready "http://127.0.0.1:$WEB_PORT/healthz" 120 || { "${PC[@]}" logs 2>&1 | tail -40; exit 1; }
running() { podman ps --filter "label=io.podman.compose.project=reengage-ci" --filter "label=com.docker.compose.service=$1" -q | wc -l; }
[ "$(running worker)" = 2 ] && [ "$(running clock)" = 2 ] || { echo "expected 2 workers and 2 clocks"; podman ps -a; exit 1; }

web=$(podman ps --filter "label=io.podman.compose.project=reengage-ci" --filter "label=com.docker.compose.service=web" --format '{{.Names}}' | head -1)
# A lookup of a service's name from a new exec session can fail while the network's DNS catches up (seen once
# with the tests running beside): the account is asked for again, as nothing was written when it could not connect.
key=""
for _ in 1 2 3 4 5; do key=$(podman exec "$web" flask accounts create Acme --key-only) && break; sleep 2; done
[ -n "$key" ] || { echo "could not create an account in the stack"; exit 1; }
api() { curl -fsS "http://127.0.0.1:$WEB_PORT$1" -H "Authorization: Bearer $key" -H "Content-Type: application/json" "${@:2}"; }
api /v1/rules -d '{"key": "trial_abandoned", "scenario": "onboarding.started_then_stopped", "kind": "inactivity",
                   "params": {"start_events": ["trial_started"], "goal_events": ["trial_activated"], "wait": "2s"}}' >/dev/null
api /v1/events -d '{"id": "ci-1", "type": "trial_started", "contact": {"email": "dana@example.com"}}' >/dev/null
for _ in $(seq 1 60); do
  dropoffs=$(api "/v1/dropoffs?rule=trial_abandoned")
  [ "$dropoffs" != "[]" ] && break; sleep 1
done
echo "$dropoffs" | python3 -c 'import json, sys; d = json.load(sys.stdin); assert d and d[0]["rule"] == "trial_abandoned", d'
metrics=$(curl -fsS "http://127.0.0.1:$WEB_PORT/metrics" -H "Authorization: Bearer ci-metrics")
grep -q 'reengage_events_received_total{status="created"} 1.0' <<<"$metrics" || { echo "$metrics" | grep reengage_ | head; exit 1; }
grep -q 'reengage_clock_lag_seconds' <<<"$metrics"
bad=$(podman ps -a --filter "label=io.podman.compose.project=reengage-ci" --format '{{.Names}} {{.Status}}' | grep -E 'Exited \([1-9]' || true)
[ -z "$bad" ] || { echo "a service failed: $bad"; exit 1; }
echo "stack: 2 workers and 2 clocks up; an event became a dropoff through port $WEB_PORT; /metrics counted it"
