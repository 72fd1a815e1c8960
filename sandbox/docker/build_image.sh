#!/usr/bin/env bash
# Build the analysis image locally (no registry is reachable): a debootstrap'ed Debian root with
# python3, imported into Docker, then the analyzers pip-installed into /tools.
#
# Cached twice: the Debian root (base image) is kept; the analysis image is rebuilt only when
# sandbox/requirements-analyzers.txt or this script changes (their hash is an image label).
# Network is used by this build only (host network of a throwaway build container); analysis
# containers always run with network "none".
#   build_image.sh [--force]      env: DCODER_SANDBOX_DOCKER_IMAGE (default dcoder-analyzers:latest)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REQS="$HERE/../requirements-analyzers.txt"
IMAGE="${DCODER_SANDBOX_DOCKER_IMAGE:-dcoder-analyzers:latest}"
BASE="dcoder-analyzers-base:bookworm"
SUITE="bookworm"
MIRROR="${DCODER_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
ANALYZER_UID=10001
SOCK="${DCODER_DOCKER_RUN:-/run/dcoder-docker}/docker.sock"
if [[ -z "${DOCKER_HOST:-}" && -S "$SOCK" ]]; then export DOCKER_HOST="unix://$SOCK"; fi
DIGEST="$(cat "$REQS" "$0" | sha256sum | cut -c1-16)"

if [[ "${1:-}" != "--force" ]] &&
    [[ "$(docker image inspect -f '{{index .Config.Labels "dcoder.digest"}}' "$IMAGE" 2>/dev/null)" == "$DIGEST" ]]; then
    echo "image $IMAGE is up to date ($DIGEST)"
    exit 0
fi

if ! docker image inspect "$BASE" >/dev/null 2>&1; then
    rootfs="$(mktemp -d /var/tmp/dcoder-rootfs.XXXXXX)"
    trap 'rm -rf "$rootfs"' EXIT
    echo "debootstrap $SUITE (minbase + python3) from $MIRROR"
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
        "$SUITE" "$rootfs" "$MIRROR" >/dev/null
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | docker import - "$BASE" >/dev/null
    rm -rf "$rootfs"
    trap - EXIT
fi

echo "installing analyzers into $IMAGE"
builder="dcoder-image-build-$$"
trap 'docker rm -f "$builder" >/dev/null 2>&1 || true' EXIT
# The host's CA bundle goes in for the build only: pip may sit behind a TLS-inspecting proxy.
docker run --name "$builder" --network host \
    -v "$REQS:/build/requirements.txt:ro" \
    -v /etc/ssl/certs/ca-certificates.crt:/build/ca.crt:ro \
    "$BASE" /bin/sh -euc "
        python3 -m venv /tools
        PIP_CERT=/build/ca.crt PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 \
            /tools/bin/pip install -q -r /build/requirements.txt
        groupadd -g $ANALYZER_UID analyzer
        useradd -u $ANALYZER_UID -g $ANALYZER_UID -M -d /tmp -s /usr/sbin/nologin analyzer
        mkdir -p /workspace /config
    "
docker commit \
    -c "LABEL dcoder.digest=$DIGEST" -c "USER $ANALYZER_UID:$ANALYZER_UID" \
    -c "WORKDIR /workspace" -c "ENV PATH=/tools/bin:/usr/local/bin:/usr/bin:/bin" \
    "$builder" "$IMAGE" >/dev/null
# The image this build replaced is now untagged: drop it rather than pile up 500 MB per rebuild.
docker image prune -f --filter "label=dcoder.digest" >/dev/null
echo "built $IMAGE ($DIGEST)"
