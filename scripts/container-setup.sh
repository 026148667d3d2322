#!/usr/bin/env bash
# Machine setup for the container test: the tools it needs (from apt when
# missing), a private Docker engine, and the local base image that the
# project's Dockerfile builds on. Idempotent: an engine already answering in
# the engine directory is used as it is, and so is a base image already in it.
# It prints what it made and what it found; the engine keeps running after it
# exits. `--stop` stops that engine and removes what it created.
#
# Runs as root on Debian 12 with only the npm registry and Debian's mirror
# reachable: no image registry is used. The base image is made locally with
# debootstrap plus this machine's Node.js, npm and CA bundle.
#
#   bash scripts/container-setup.sh           set up (or find) engine and base image
#   bash scripts/container-setup.sh --stop    stop the engine, remove its directory
#
# Then `source "$THRIVE_MOCK_ENGINE_DIR/env"` points docker at the engine.
#
# Environment:
#   THRIVE_MOCK_ENGINE_DIR   engine directory: socket, data, logs, env file
#                            (default /tmp/thrive-mock-engine)
#   THRIVE_MOCK_BASE_CACHE   cache directory for the base rootfs tarball
#                            (default /var/cache/thrive-mock-base; kept)
#   THRIVE_MOCK_NO_CACHE=1   ignore (and refresh) the cached rootfs and remake the base image
#   THRIVE_MOCK_KEEP=1       with --stop: keep the engine directory and its logs
set -euo pipefail

SCRIPT_NAME=container-setup
SCRIPT_START=$(date +%s)
# shellcheck source=scripts/container-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/container-lib.sh"

SUITE=bookworm
BASE_TAG=thrive-mock-base:local
CACHE_DIR=${THRIVE_MOCK_BASE_CACHE:-/var/cache/thrive-mock-base}
DEFAULT_REGISTRY=https://registry.npmjs.org/
ENGINE_DIR=${THRIVE_MOCK_ENGINE_DIR:-/tmp/thrive-mock-engine}
ENV_FILE=$ENGINE_DIR/env

# stop_engine: stop the engine recorded in ENV_FILE and remove what it created.
stop_engine() {
  local THRIVE_MOCK_DOCKERD_PID="" THRIVE_MOCK_HOST_LEFTOVERS=() p m
  if [[ -f $ENV_FILE ]]; then
    # shellcheck disable=SC1090
    source "$ENV_FILE"
  fi
  if [[ -n $THRIVE_MOCK_DOCKERD_PID ]] && alive "$THRIVE_MOCK_DOCKERD_PID"; then
    if ! stop_pid "$THRIVE_MOCK_DOCKERD_PID" 30; then
      log "dockerd ($THRIVE_MOCK_DOCKERD_PID) did not stop in 15 s; killing it"
      kill -KILL "$THRIVE_MOCK_DOCKERD_PID" 2>/dev/null
      sleep 1
    fi
    log "stopped dockerd $THRIVE_MOCK_DOCKERD_PID"
  fi
  # Paths the engine creates outside its data and exec roots, removed only
  # when they did not exist before it started.
  for p in "${THRIVE_MOCK_HOST_LEFTOVERS[@]}"; do
    if [[ $p == /sys/fs/cgroup/* ]]; then
      [[ -d $p ]] && find "$p" -depth -type d -exec rmdir {} + 2>/dev/null
    else
      rm -rf --one-file-system "$p"
    fi
  done
  if [[ -d $ENGINE_DIR ]]; then
    # Unmount anything left below the engine dir (deepest first) before removal.
    while read -r m; do
      [[ -n $m ]] && umount -l "$m" 2>/dev/null
    done < <(awk -v w="$ENGINE_DIR" 'index($2, w "/") == 1 { print $2 }' /proc/self/mounts | sort -r)
    if [[ ${THRIVE_MOCK_KEEP:-0} == 1 ]]; then
      rm -f "$ENV_FILE"
      log "kept $ENGINE_DIR"
    else
      rm -rf --one-file-system "$ENGINE_DIR"
      log "removed $ENGINE_DIR"
    fi
  fi
  return 0
}

if [[ ${1:-} == --stop ]]; then
  set +e
  stop_engine
  exit 0
fi
[[ $# -eq 0 ]] || { echo "usage: $0 [--stop]" >&2; exit 2; }

SETUP_TMP=""
ENGINE_MADE=0
on_exit() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  if [[ -n $BG_PID ]] && alive "$BG_PID"; then
    stop_pid "$BG_PID" 20 || kill -KILL "$BG_PID" 2>/dev/null
  fi
  if [[ -n $SETUP_TMP && -d $SETUP_TMP ]]; then
    local m
    while read -r m; do
      [[ -n $m ]] && umount -l "$m" 2>/dev/null
    done < <(awk -v w="$SETUP_TMP" 'index($2, w "/") == 1 { print $2 }' /proc/self/mounts | sort -r)
    rm -rf --one-file-system "$SETUP_TMP"
  fi
  if [[ $rc -ne 0 ]]; then
    if [[ $CURRENT_STEP == *engine* && -f $ENGINE_DIR/dockerd.log ]]; then
      log "dockerd log (last 30 lines):"
      tail -n 30 "$ENGINE_DIR/dockerd.log" | sed 's/^/    /'
    fi
    # An engine this run started is not left half set up.
    [[ $ENGINE_MADE -eq 1 ]] && stop_engine
    echo "container-setup: FAIL at '$CURRENT_STEP' (exit $rc)"
  fi
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[[ $(id -u) -eq 0 ]] || fail "must run as root (it installs packages and runs a Docker engine)"

# ---------------------------------------------------------------------------
# packages
# ---------------------------------------------------------------------------
APT_UPDATED=0
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  if [[ $APT_UPDATED -eq 0 ]]; then
    timeout 300 apt-get update -qq || fail "apt-get update failed"
    APT_UPDATED=1
  fi
  # Keep package scripts from starting system services (no system dockerd).
  local made_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  local rc=0
  # Wait for another apt or dpkg run to finish instead of failing at once.
  timeout 600 apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 "$@" >/dev/null || rc=$?
  if [[ $made_policy -eq 1 ]]; then rm -f /usr/sbin/policy-rc.d; fi
  [[ $rc -eq 0 ]] || fail "apt-get install $* failed ($rc)"
}

step "checking tools"
need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v debootstrap >/dev/null || need+=(debootstrap debian-archive-keyring)
# With AppArmor on in the kernel, dockerd needs apparmor_parser to load the
# docker-default profile, else every container fails to start.
if [[ $(cat /sys/module/apparmor/parameters/enabled 2>/dev/null) == Y* ]] && ! command -v apparmor_parser >/dev/null; then
  need+=(apparmor)
fi
command -v curl >/dev/null || need+=(curl)
command -v node >/dev/null || fail "node is not installed on this machine (it is copied into the base image)"
command -v npm >/dev/null || fail "npm is not installed on this machine (it is copied into the base image)"
if [[ ${#need[@]} -gt 0 ]]; then
  log "installing from apt: ${need[*]}"
  apt_install "${need[@]}"
fi
# Prefer the client that ships with the engine we start (docker.io's).
if [[ -x /usr/bin/docker ]]; then DOCKER_BIN=/usr/bin/docker; else DOCKER_BIN=$(command -v docker || true); fi
[[ -n $DOCKER_BIN ]] || fail "no docker client"
log "dockerd: $(dockerd --version)"
log "client:  $("$DOCKER_BIN" --version)"
# The compose check needs docker-compose; without it from apt, test-container.sh skips that check.
if ! command -v docker-compose >/dev/null; then
  cand=$(apt-cache policy docker-compose 2>/dev/null | awk '/Candidate:/ { print $2 }')
  if [[ $APT_UPDATED -eq 0 && ( -z $cand || $cand == "(none)" ) ]]; then
    timeout 300 apt-get update -qq || true
    APT_UPDATED=1
    cand=$(apt-cache policy docker-compose 2>/dev/null | awk '/Candidate:/ { print $2 }')
  fi
  if [[ -n $cand && $cand != "(none)" ]]; then
    log "installing docker-compose $cand from apt"
    apt_install docker-compose
  else
    log "docker-compose is not available from apt"
  fi
fi

# ---------------------------------------------------------------------------
# private Docker engine
# ---------------------------------------------------------------------------
engine_answers() {
  [[ -S $ENGINE_DIR/docker.sock ]] && DOCKER_HOST="unix://$ENGINE_DIR/docker.sock" timeout 5 "$DOCKER_BIN" version >/dev/null 2>&1
}

step "private Docker engine in $ENGINE_DIR"
if [[ -f $ENV_FILE ]] && engine_answers; then
  # shellcheck disable=SC1090
  source "$ENV_FILE"
  ENGINE_STATUS="found running (dockerd pid $THRIVE_MOCK_DOCKERD_PID)"
else
  # A directory left by an engine that is gone: start afresh.
  if [[ -e $ENGINE_DIR ]]; then
    set +e
    stop_engine
    set -e
  fi
  mkdir -p "$ENGINE_DIR/data" "$ENGINE_DIR/exec" "$ENGINE_DIR/bin"
  chmod 711 "$ENGINE_DIR"
  ln -s "$DOCKER_BIN" "$ENGINE_DIR/bin/docker"
  echo '{}' >"$ENGINE_DIR/daemon.json"
  # BuildKit builds the two stages in parallel. docker.io's client has it built
  # in; a newer client needs the buildx plugin for it, else use the classic builder.
  if [[ $DOCKER_BIN == /usr/bin/docker ]] || "$DOCKER_BIN" buildx version >/dev/null 2>&1; then
    buildkit=1
  else
    buildkit=0
  fi
  dockerd_args=(
    --config-file "$ENGINE_DIR/daemon.json"
    --storage-driver=overlay2
    --iptables=false
    --ip-masq=false
    --bridge=none
    --data-root "$ENGINE_DIR/data"
    --exec-root "$ENGINE_DIR/exec"
    -H "unix://$ENGINE_DIR/docker.sock"
    --pidfile "$ENGINE_DIR/docker.pid"
  )
  # Keep our containers apart from any other engine sharing a system containerd.
  if dockerd --help 2>/dev/null | grep -q -- '--containerd-namespace'; then
    dockerd_args+=(--containerd-namespace thrive-mock-test --containerd-plugins-namespace thrive-mock-test-plugins)
  fi
  # dockerd, its containerd, runc and BuildKit create these whatever the roots
  # are: note the ones that do not exist yet so that --stop removes them.
  leftovers=()
  candidates=(/etc/docker/key.json /etc/docker /run/docker /run/containerd /run/runc /sys/fs/cgroup/docker)
  if [[ ! -e /sys/fs/cgroup/cgroup.controllers ]]; then # cgroup v1: one tree per controller
    for c in /sys/fs/cgroup/*/; do candidates+=("${c}docker"); done
  fi
  for p in "${candidates[@]}"; do
    if [[ ! -e $p ]]; then leftovers+=("$p"); fi
  done
  # Its own session: the engine outlives this script and no signal meant for the caller reaches it.
  setsid dockerd "${dockerd_args[@]}" </dev/null >"$ENGINE_DIR/dockerd.log" 2>&1 &
  dockerd_pid=$!
  ENGINE_MADE=1
  {
    printf 'export DOCKER_HOST=%q\n' "unix://$ENGINE_DIR/docker.sock"
    printf 'export DOCKER_BUILDKIT=%q\n' "$buildkit"
    # shellcheck disable=SC2016 # $PATH expands where the file is sourced
    printf 'export PATH=%q:"$PATH"\n' "$ENGINE_DIR/bin"
    echo 'unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH'
    printf 'THRIVE_MOCK_BASE_TAG=%q\n' "$BASE_TAG"
    printf 'THRIVE_MOCK_DOCKERD_PID=%q\n' "$dockerd_pid"
    printf 'THRIVE_MOCK_HOST_LEFTOVERS=(%s)\n' "$( (( ${#leftovers[@]} )) && printf '%q ' "${leftovers[@]}")"
  } >"$ENV_FILE"
  log "dockerd pid $dockerd_pid, socket $ENGINE_DIR/docker.sock"
  for ((i = 0; i < 60; i++)); do
    alive "$dockerd_pid" || fail "dockerd exited during start-up"
    if engine_answers; then break; fi
    sleep 1
  done
  engine_answers || fail "dockerd not ready after 60 s"
  # shellcheck disable=SC1090
  source "$ENV_FILE"
  ENGINE_STATUS="started (dockerd pid $dockerd_pid)"
fi
log "engine $ENGINE_STATUS: $(docker info -f 'server {{.ServerVersion}}, storage {{.Driver}}, cgroup {{.CgroupDriver}}')"

# ---------------------------------------------------------------------------
# base image: debootstrap minbase + this machine's node, npm and CA bundle
# ---------------------------------------------------------------------------
# ---------------------------------------------------------------------------
# base image: debootstrap minbase + this machine's node, npm and CA bundle
# ---------------------------------------------------------------------------
debian_mirror() {
  local f uri
  # deb822 .sources files: first URIs whose stanza lists the suite.
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    uri=$(awk -v s="$SUITE" '
      /^[[:space:]]*$/ { if (u != "" && hit) { print u; exit } u = ""; hit = 0; next }
      tolower($1) == "uris:" { u = $2 }
      tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == s) hit = 1 }
      END { if (u != "" && hit) print u }' "$f" | head -n1)
    if [[ -n $uri ]]; then echo "$uri"; return; fi
  done
  # One-line format.
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $f ]] || continue
    uri=$(awk -v s="$SUITE" '$1 == "deb" {
        i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
        if ($(i + 1) == s) { print $i; exit } }' "$f")
    if [[ -n $uri ]]; then echo "$uri"; return; fi
  done
  echo "http://deb.debian.org/debian"
}

make_base_image() {
  base_start=$(date +%s)
  ARCH=$(dpkg --print-architecture)
  CACHE_TAR=$CACHE_DIR/rootfs-$SUITE-minbase-$ARCH.tar
  ROOTFS=$SETUP_TMP/rootfs
  mkdir -p "$ROOTFS"
  if [[ -f $CACHE_TAR && ${THRIVE_MOCK_NO_CACHE:-0} != 1 ]]; then
    log "using cached rootfs $CACHE_TAR"
    tar -C "$ROOTFS" --numeric-owner -xpf "$CACHE_TAR"
  else
    MIRROR=$(debian_mirror)
    log "debootstrap --variant=minbase $SUITE from $MIRROR (this takes a while)"
    ds_start=$(date +%s)
    if ! bounded 480 debootstrap --variant=minbase --arch="$ARCH" "$SUITE" "$ROOTFS" "$MIRROR" >"$SETUP_TMP/debootstrap.log" 2>&1; then
      tail -n 20 "$SETUP_TMP/debootstrap.log" | sed 's/^/    /'
      fail "debootstrap failed"
    fi
    log "debootstrap took $(( $(date +%s) - ds_start ))s"
    # debootstrap unmounts what it mounted, but make sure before archiving.
    while read -r m; do umount -l "$m" 2>/dev/null || true; done \
      < <(awk -v w="$ROOTFS" 'index($2, w "/") == 1 { print $2 }' /proc/self/mounts | sort -r)
    # Trim like Debian's slim images: no apt lists, caches, docs, man pages, locales.
    rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/* "$ROOTFS"/var/cache/debconf/*-old \
      "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* "$ROOTFS"/usr/share/locale/* \
      "$ROOTFS"/var/log/* "$ROOTFS"/tmp/* "$ROOTFS"/var/tmp/* "$ROOTFS"/debootstrap
    find "$ROOTFS/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
    find "$ROOTFS/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
    rm -f "$ROOTFS/etc/resolv.conf" "$ROOTFS/etc/hostname" "$ROOTFS/etc/machine-id"
    : >"$ROOTFS/etc/machine-id"
    if mkdir -p "$CACHE_DIR" 2>/dev/null; then
      if tar -C "$ROOTFS" --numeric-owner -cf "$CACHE_TAR.tmp.$$" . && mv -f "$CACHE_TAR.tmp.$$" "$CACHE_TAR"; then
        log "cached rootfs in $CACHE_TAR ($(du -m "$CACHE_TAR" | cut -f1) MB)"
      else
        rm -f "$CACHE_TAR.tmp.$$"
        log "could not write the cache (continuing)"
      fi
    fi
  fi

  NODE_BIN=$(readlink -f "$(command -v node)")
  NPM_DIR=$(readlink -f "$(command -v npm)")
  NPM_DIR=${NPM_DIR%/bin/npm-cli.js}
  if [[ ! -f $NPM_DIR/package.json ]]; then
    NPM_DIR=$(dirname "$(dirname "$NODE_BIN")")/lib/node_modules/npm
  fi
  [[ -f $NPM_DIR/bin/npm-cli.js ]] || fail "cannot find npm's install directory"
  NODE_VERSION=$("$NODE_BIN" --version)
  log "adding node $NODE_VERSION ($NODE_BIN) and npm $(npm --version) ($NPM_DIR)"
  install -D -m 755 "$NODE_BIN" "$ROOTFS/usr/local/bin/node"
  mkdir -p "$ROOTFS/usr/local/lib/node_modules"
  cp -a "$NPM_DIR" "$ROOTFS/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$ROOTFS/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$ROOTFS/usr/local/bin/npx"

  CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
  [[ -f $CA_BUNDLE ]] || fail "no system CA bundle at $CA_BUNDLE"
  install -D -m 644 "$CA_BUNDLE" "$ROOTFS/etc/ssl/certs/ca-certificates.crt"

  # npm's global config inside the image (<prefix>/etc/npmrc): mirror the host's
  # registry and proxy settings when they differ from npm's defaults.
  HOST_REGISTRY=$(npm config get registry 2>/dev/null || echo "$DEFAULT_REGISTRY")
  mkdir -p "$ROOTFS/usr/local/etc"
  {
    echo "fund=false"
    echo "update-notifier=false"
    if [[ $HOST_REGISTRY != "$DEFAULT_REGISTRY" ]]; then echo "registry=$HOST_REGISTRY"; fi
    for key in proxy https-proxy noproxy; do
      val=$(npm config get "$key" 2>/dev/null || true)
      if [[ -n $val && $val != null && $val != undefined ]]; then echo "$key=$val"; fi
    done
  } >"$ROOTFS/usr/local/etc/npmrc"
  log "npm registry in base image: $HOST_REGISTRY"

  tar -C "$ROOTFS" --numeric-owner -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
    --change "ENV NODE_VERSION=${NODE_VERSION#v}" \
    --change 'CMD ["node"]' \
    - "$BASE_TAG" >/dev/null
  rm -rf --one-file-system "$ROOTFS"
  docker run --rm --network host "$BASE_TAG" sh -c 'node --version && npm --version' >/dev/null \
    || fail "node/npm do not run in $BASE_TAG"
  BASE_SECS=$(( $(date +%s) - base_start ))
  log "base image ready in ${BASE_SECS}s ($(( $(docker image inspect -f '{{.Size}}' "$BASE_TAG") / 1000000 )) MB)"
}

step "base image $BASE_TAG"
BASE_SECS=0
if [[ ${THRIVE_MOCK_NO_CACHE:-0} != 1 ]] && docker image inspect "$BASE_TAG" >/dev/null 2>&1; then
  BASE_STATUS="found"
else
  SETUP_TMP=$(mktemp -d /tmp/tmcs.XXXXXX)
  make_base_image
  BASE_STATUS="made in ${BASE_SECS}s"
fi
sed -i '/^THRIVE_MOCK_BASE_SECS=/d' "$ENV_FILE"
printf 'THRIVE_MOCK_BASE_SECS=%q\n' "$BASE_SECS" >>"$ENV_FILE"

CURRENT_STEP="done"
echo "container-setup: engine $ENGINE_STATUS at $DOCKER_HOST; base image $BASE_TAG $BASE_STATUS ($(( $(docker image inspect -f '{{.Size}}' "$BASE_TAG") / 1000000 )) MB); env in $ENV_FILE"
