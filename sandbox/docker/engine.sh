#!/usr/bin/env bash
# Local Docker engine for the sandbox's Docker backend, safe to run on a shared machine.
#
#   engine.sh install   apt-get install docker.io + debootstrap when missing
#   engine.sh start     start dockerd (idempotent) on its own socket, data and exec roots
#   engine.sh stop      stop the dockerd this script started
#   engine.sh status    exit 0 when the engine answers
#   engine.sh image     build the analysis image when missing or stale (build_image.sh)
#
# dockerd never runs with its default flags here: those rewrite the host's firewall (iptables) and
# routing (docker0 bridge). Without a bridge, containers get network "none" (analysis) or "host"
# (image build only).
set -euo pipefail

ROOT="${DCODER_DOCKER_ROOT:-/var/lib/dcoder-docker}"
RUN_DIR="${DCODER_DOCKER_RUN:-/run/dcoder-docker}"
SOCK="$RUN_DIR/docker.sock"
# Same lookup as the Python side: DOCKER_HOST, else this script's socket, else docker's default.
if [[ -z "${DOCKER_HOST:-}" && -S "$SOCK" ]]; then export DOCKER_HOST="unix://$SOCK"; fi
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

install() {
    local missing=()
    command -v dockerd >/dev/null || missing+=(docker.io)
    command -v debootstrap >/dev/null || missing+=(debootstrap)
    if ((${#missing[@]})); then
        apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    fi
}

start() {
    if answers; then echo "docker engine answers at ${DOCKER_HOST:-the default socket}"; return 0; fi
    export DOCKER_HOST="unix://$SOCK"
    mkdir -p "$ROOT/data" "$RUN_DIR/exec"
    nohup dockerd --iptables=false --ip6tables=false --bridge=none \
        --storage-driver=overlay2 --data-root "$ROOT/data" --exec-root "$RUN_DIR/exec" \
        --pidfile "$RUN_DIR/dockerd.pid" --host "unix://$SOCK" \
        >"$ROOT/dockerd.log" 2>&1 </dev/null &
    for _ in $(seq 1 60); do
        if answers; then echo "docker engine started at $DOCKER_HOST"; return 0; fi
        sleep 0.5
    done
    echo "dockerd did not answer within 30 s; last log lines:" >&2
    tail -n 20 "$ROOT/dockerd.log" >&2
    return 1
}

stop() {
    if [[ -f "$RUN_DIR/dockerd.pid" ]]; then
        kill "$(cat "$RUN_DIR/dockerd.pid")" && echo "dockerd stopped"
    fi
}

case "${1:-}" in
    install) install ;;
    start) start ;;
    stop) stop ;;
    status) answers && echo "docker engine answers at ${DOCKER_HOST:-the default socket}" ;;
    image) exec "$HERE/build_image.sh" "${@:2}" ;;
    *) echo "usage: $0 install|start|stop|status|image" >&2; exit 2 ;;
esac
