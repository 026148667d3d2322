#!/usr/bin/env bash
# Container test: builds the image with a private Docker engine and checks that
# every package the bundle loads from node_modules is in it, that it serves
# (with --generate, /docs and pretty logs on a terminal), is healthy, runs as
# non-root and stops cleanly on SIGTERM; then validates docker-compose.yml, and
# builds and runs it with the host-network override on the local base image.
#
# Runs as root on Debian 12 with only the npm registry and Debian's mirror
# reachable: no image registry is used. The base image is made locally with
# debootstrap plus this machine's Node.js, npm and CA bundle.
#
# Everything it starts or creates (engine, containers, images, temp dirs) is
# removed on exit. Only the rootfs tarball cache is kept, in
# $THRIVE_MOCK_BASE_CACHE (default /var/cache/thrive-mock-base).
#
# Environment:
#   THRIVE_MOCK_BASE_CACHE   cache directory for the base rootfs tarball
#   THRIVE_MOCK_NO_CACHE=1   ignore (and refresh) the cached rootfs
#   THRIVE_MOCK_TEST_PORT    port for the container (default 18080 if free)
#   THRIVE_MOCK_KEEP=1       keep the temp dir and engine logs for debugging
set -euo pipefail

SCRIPT_START=$(date +%s)
ROOT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

SUITE=bookworm
BASE_TAG=thrive-mock-base:local
IMAGE_TAG=thrive-audience-mock:test
COMPOSE_IMAGE_TAG=thrive-audience-mock:compose-test
CACHE_DIR=${THRIVE_MOCK_BASE_CACHE:-/var/cache/thrive-mock-base}
TENANT=eu-west-2_AcmeCorp1
SECRET=acme-api-secret-0001
AUDIENCE=engineering
DEFAULT_REGISTRY=https://registry.npmjs.org/
COMPOSE_PROJECT=thrivemockctest

WORK=""
DOCKERD_PID=""
HOST_LEFTOVERS=()
BG_PID=""
CONTAINER=""
COMPOSE_UP=0
COMPOSE_STATUS="not run"
IMAGE_MB="?"
BUILD_SECS="?"
BASE_SECS="?"
CURRENT_STEP="start"

log() { printf '[test-container %4ss] %s\n' "$(( $(date +%s) - SCRIPT_START ))" "$*"; }
step() { CURRENT_STEP=$*; log "== $*"; }
fail() { log "FAIL: $*"; exit 1; }

# bounded SECONDS COMMAND...: run a long step with a time limit, in the
# background so that an INT/TERM sent to this script is handled at once.
bounded() {
  local secs=$1 rc=0
  shift
  timeout "$secs" "$@" &
  BG_PID=$!
  wait "$BG_PID" || rc=$?
  BG_PID=""
  return "$rc"
}

# ---------------------------------------------------------------------------
# cleanup: everything created by this run, bounded in time
# ---------------------------------------------------------------------------
# stop_pid PID TRIES: SIGTERM, then up to TRIES half-second waits; fails if the process is still there.
stop_pid() {
  local pid=$1 tries=$2 i
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < tries; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.5
  done
  ! kill -0 "$pid" 2>/dev/null
}

cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  # A signal may arrive inside a step whose output goes to a log file.
  exec 1>&3 2>&4
  if [[ -n $BG_PID ]] && kill -0 "$BG_PID" 2>/dev/null; then
    stop_pid "$BG_PID" 20 || kill -KILL "$BG_PID" 2>/dev/null
  fi
  if [[ $rc -ne 0 && -n $WORK && -S $WORK/docker.sock ]]; then
    if [[ -n $CONTAINER ]]; then
      log "container logs ($CONTAINER):"
      timeout 10 docker logs --tail 40 "$CONTAINER" 2>&1 | sed 's/^/    /'
    fi
  fi
  if [[ -n $WORK && -S $WORK/docker.sock ]]; then
    if [[ $COMPOSE_UP -eq 1 ]]; then
      compose down --remove-orphans --volumes --timeout 10 >/dev/null 2>&1
    fi
    if [[ -n $CONTAINER ]]; then
      timeout 30 docker rm -f "$CONTAINER" >/dev/null 2>&1
    fi
    local ids=()
    mapfile -t ids < <(timeout 10 docker ps -aq 2>/dev/null)
    [[ ${#ids[@]} -gt 0 ]] && timeout 30 docker rm -f "${ids[@]}" >/dev/null 2>&1
    timeout 20 docker network prune -f >/dev/null 2>&1
    timeout 60 docker rmi -f "$IMAGE_TAG" "$COMPOSE_IMAGE_TAG" "$BASE_TAG" >/dev/null 2>&1
  fi
  if [[ -n $DOCKERD_PID ]] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
    if ! stop_pid "$DOCKERD_PID" 30; then
      log "dockerd ($DOCKERD_PID) did not stop in 15 s; killing it"
      kill -KILL "$DOCKERD_PID" 2>/dev/null
      sleep 1
    fi
    wait "$DOCKERD_PID" 2>/dev/null
  fi
  # Paths the engine creates outside its data and exec roots, removed only
  # when they did not exist before it started.
  local p
  for p in "${HOST_LEFTOVERS[@]}"; do
    if [[ $p == /sys/fs/cgroup/* ]]; then
      [[ -d $p ]] && find "$p" -depth -type d -exec rmdir {} + 2>/dev/null
    else
      rm -rf --one-file-system "$p"
    fi
  done
  if [[ $rc -ne 0 && $CURRENT_STEP == *engine* && -f $WORK/dockerd.log ]]; then
    log "dockerd log (last 30 lines):"
    tail -n 30 "$WORK/dockerd.log" | sed 's/^/    /'
  fi
  if [[ -n $WORK && -d $WORK ]]; then
    # Unmount anything left below the work dir (deepest first) before removal.
    local m
    while read -r m; do
      [[ -n $m ]] && umount -l "$m" 2>/dev/null
    done < <(awk -v w="$WORK" 'index($2, w "/") == 1 { print $2 }' /proc/self/mounts | sort -r)
    if [[ ${THRIVE_MOCK_KEEP:-0} == 1 ]]; then
      log "kept $WORK"
    else
      rm -rf --one-file-system "$WORK"
    fi
  fi
  local total=$(( $(date +%s) - SCRIPT_START ))
  if [[ $rc -eq 0 ]]; then
    echo "test-container: PASS image=$IMAGE_TAG size=${IMAGE_MB}MB base=${BASE_SECS}s build=${BUILD_SECS}s compose=$COMPOSE_STATUS total=${total}s"
  else
    echo "test-container: FAIL at '$CURRENT_STEP' (exit $rc) total=${total}s"
  fi
  exit "$rc"
}
exec 3>&1 4>&2
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[[ $(id -u) -eq 0 ]] || fail "must run as root (it installs packages and runs a Docker engine)"
[[ -f $ROOT_DIR/Dockerfile ]] || fail "no Dockerfile in $ROOT_DIR"

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

# ---------------------------------------------------------------------------
# private Docker engine
# ---------------------------------------------------------------------------
step "starting a private Docker engine"
WORK=$(mktemp -d /tmp/tmct.XXXXXX)
chmod 711 "$WORK"
mkdir -p "$WORK/data" "$WORK/exec" "$WORK/bin"
ln -s "$DOCKER_BIN" "$WORK/bin/docker"
export PATH="$WORK/bin:$PATH"
echo '{}' >"$WORK/daemon.json"
export DOCKER_HOST="unix://$WORK/docker.sock"
# BuildKit builds the two stages in parallel. docker.io's client has it built
# in; a newer client needs the buildx plugin for it, else use the classic builder.
if [[ $DOCKER_BIN == /usr/bin/docker ]] || "$DOCKER_BIN" buildx version >/dev/null 2>&1; then
  export DOCKER_BUILDKIT=1
else
  export DOCKER_BUILDKIT=0
fi
unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH

dockerd_args=(
  --config-file "$WORK/daemon.json"
  --storage-driver=overlay2
  --iptables=false
  --ip-masq=false
  --bridge=none
  --data-root "$WORK/data"
  --exec-root "$WORK/exec"
  -H "unix://$WORK/docker.sock"
  --pidfile "$WORK/docker.pid"
)
# Keep our containers apart from any other engine sharing a system containerd.
if dockerd --help 2>/dev/null | grep -q -- '--containerd-namespace'; then
  dockerd_args+=(--containerd-namespace thrive-mock-test --containerd-plugins-namespace thrive-mock-test-plugins)
fi
# dockerd, its containerd, runc and BuildKit create these whatever the roots
# are: note the ones that do not exist yet so that cleanup removes them.
candidates=(/etc/docker/key.json /etc/docker /run/docker /run/containerd /run/runc /sys/fs/cgroup/docker)
if [[ ! -e /sys/fs/cgroup/cgroup.controllers ]]; then # cgroup v1: one tree per controller
  for c in /sys/fs/cgroup/*/; do candidates+=("${c}docker"); done
fi
for p in "${candidates[@]}"; do
  if [[ ! -e $p ]]; then HOST_LEFTOVERS+=("$p"); fi
done
dockerd "${dockerd_args[@]}" >"$WORK/dockerd.log" 2>&1 &
DOCKERD_PID=$!
log "dockerd pid $DOCKERD_PID, socket $WORK/docker.sock"
for ((i = 0; i < 60; i++)); do
  kill -0 "$DOCKERD_PID" 2>/dev/null || fail "dockerd exited during start-up"
  if [[ -S $WORK/docker.sock ]] && timeout 5 docker version >/dev/null 2>&1; then break; fi
  sleep 1
done
timeout 5 docker version >/dev/null 2>&1 || fail "dockerd not ready after 60 s"
log "engine ready: $(docker info -f 'server {{.ServerVersion}}, storage {{.Driver}}, cgroup {{.CgroupDriver}}')"
NETWORKS_BEFORE=$(docker network ls -q --no-trunc | sort)

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

step "building base image $BASE_TAG"
base_start=$(date +%s)
ARCH=$(dpkg --print-architecture)
CACHE_TAR=$CACHE_DIR/rootfs-$SUITE-minbase-$ARCH.tar
ROOTFS=$WORK/rootfs
mkdir -p "$ROOTFS"
if [[ -f $CACHE_TAR && ${THRIVE_MOCK_NO_CACHE:-0} != 1 ]]; then
  log "using cached rootfs $CACHE_TAR"
  tar -C "$ROOTFS" --numeric-owner -xpf "$CACHE_TAR"
else
  MIRROR=$(debian_mirror)
  log "debootstrap --variant=minbase $SUITE from $MIRROR (this takes a while)"
  ds_start=$(date +%s)
  if ! bounded 480 debootstrap --variant=minbase --arch="$ARCH" "$SUITE" "$ROOTFS" "$MIRROR" >"$WORK/debootstrap.log" 2>&1; then
    tail -n 20 "$WORK/debootstrap.log" | sed 's/^/    /'
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

# ---------------------------------------------------------------------------
# image build
# ---------------------------------------------------------------------------
step "building $IMAGE_TAG"
build_args=(--network host --build-arg "BASE_IMAGE=$BASE_TAG" -t "$IMAGE_TAG")
for v in HTTP_PROXY HTTPS_PROXY NO_PROXY http_proxy https_proxy no_proxy; do
  if [[ -n ${!v:-} ]]; then build_args+=(--build-arg "$v"); fi
done
build_start=$(date +%s)
if [[ $DOCKER_BUILDKIT == 1 ]]; then build_args+=(--progress=plain); fi
if ! bounded 420 docker build "${build_args[@]}" "$ROOT_DIR" >"$WORK/build.log" 2>&1; then
  tail -n 40 "$WORK/build.log" | sed 's/^/    /'
  fail "docker build failed"
fi
BUILD_SECS=$(( $(date +%s) - build_start ))
size=$(docker image inspect -f '{{.Size}}' "$IMAGE_TAG")
IMAGE_MB=$(( (size + 500000) / 1000000 ))
log "built in ${BUILD_SECS}s; image size ${IMAGE_MB} MB ($size bytes)"
docker history --format '{{.Size}}\t{{.CreatedBy}}' "$IMAGE_TAG" | awk -F'\t' '$1 != "0B" {
  printf "    %8s  %s\n", $1, substr($2, 1, 90) }'

# ---------------------------------------------------------------------------
# what the bundle loads from node_modules
# ---------------------------------------------------------------------------
step "checking the bundle's node_modules in $IMAGE_TAG"
# The image has only these packages (and their dependencies): each must load
# there, or (for a package whose code is bundled) its files must be found.
load_js="import { createRequire } from 'node:module'; const require = createRequire(process.cwd() + '/');"
while read -r name how; do
  case $how in
    load) load_js+=" await import('$name');" ;;
    files) load_js+=" require.resolve('$name/package.json');" ;;
    *) fail "scripts/runtime-modules.mjs --list printed '$name $how'" ;;
  esac
done < <(node "$ROOT_DIR/scripts/runtime-modules.mjs" --list)
load_js+=" console.log('ok')"
out=$(timeout 60 docker run --rm --network none --entrypoint node "$IMAGE_TAG" --input-type=module -e "$load_js" 2>&1) \
  || { echo "$out" | tail -n 20 | sed 's/^/    /'; fail "a package the bundle loads from node_modules is missing from the image"; }
log "loaded in the image: $(node "$ROOT_DIR/scripts/runtime-modules.mjs" --list | awk '{ print $1 }' | paste -sd' ')"
want_version=$(node -p "require('$ROOT_DIR/package.json').version")
got_version=$(timeout 60 docker run --rm --network none "$IMAGE_TAG" node dist/cli.bundle.js --version 2>&1) || fail "--version failed: $got_version"
[[ $got_version == *"$want_version"* ]] || fail "--version printed '$got_version', want $want_version"
log "node dist/cli.bundle.js --version -> $got_version"

# ---------------------------------------------------------------------------
# run the image
# ---------------------------------------------------------------------------
port_free() {
  node -e "const s=require('net').createServer();s.once('error',()=>process.exit(1));s.listen($1,'0.0.0.0',()=>s.close(()=>process.exit(0)))"
}
pick_port() {
  local p
  for p in ${THRIVE_MOCK_TEST_PORT:-} 18080 18081 18082 18083 18084; do
    port_free "$p" && { echo "$p"; return; }
  done
  node -e "const s=require('net').createServer();s.listen(0,'0.0.0.0',()=>{console.log(s.address().port);s.close()})"
}

step "running $IMAGE_TAG"
PORT=$(pick_port)
BASE_URL=http://127.0.0.1:$PORT
CONTAINER=thrive-mock-ctest-$$
# With a terminal (-t) the logs go through pino-pretty, and GENERATE loads faker.
GENERATE=10
docker run -d -t --network host --name "$CONTAINER" -e "PORT=$PORT" -e "GENERATE=$GENERATE" \
  --health-interval 2s --health-start-period 2s "$IMAGE_TAG" >/dev/null
log "container $CONTAINER on port $PORT, GENERATE=$GENERATE, with a terminal"

health=""
for ((i = 0; i < 60; i++)); do
  health=$(docker inspect -f '{{.State.Health.Status}}' "$CONTAINER" 2>/dev/null || echo missing)
  running=$(docker inspect -f '{{.State.Running}}' "$CONTAINER" 2>/dev/null || echo false)
  [[ $health == healthy ]] && break
  [[ $running == true ]] || fail "container exited before becoming healthy"
  [[ $health == unhealthy ]] && fail "container reported unhealthy"
  sleep 1
done
[[ $health == healthy ]] || fail "container not healthy after 60 s (status: $health)"
log "container is healthy after ~${i}s"

http() { # http OUTFILE CURL-ARGS... -> prints the status code
  local out=$1; shift
  curl -sS --max-time 10 -o "$out" -w '%{http_code}' "$@" || echo 000
}
json_get() { # json_get FILE KEY -> value of a top-level key
  node -e "const j=JSON.parse(require('fs').readFileSync(process.argv[1],'utf8'));const v=j[process.argv[2]];process.stdout.write(v===undefined?'':String(v))" "$1" "$2"
}

step "checking the API on 127.0.0.1"
code=$(http "$WORK/health.json" "$BASE_URL/__mock/health")
[[ $code == 200 ]] || fail "GET /__mock/health returned $code"
generated=$(json_get "$WORK/health.json" generated) || fail "health body is not JSON"
[[ $generated == "$GENERATE" ]] || fail "health says generated=$generated, want $GENERATE (faker)"
log "GET /__mock/health -> 200, generated=$generated (faker loaded)"

code=$(http "$WORK/openapi.yaml" "$BASE_URL/docs/yaml")
[[ $code == 200 ]] || fail "GET /docs/yaml returned $code"
grep -q '^openapi: 3' "$WORK/openapi.yaml" || { head -c 300 "$WORK/openapi.yaml"; echo; fail "GET /docs/yaml is not the OpenAPI document in YAML"; }
log "GET /docs/yaml -> 200, OpenAPI in YAML (yaml loaded)"

code=$(http "$WORK/docs.css" "$BASE_URL/docs/static/index.css")
[[ $code == 200 && -s $WORK/docs.css ]] || fail "GET /docs/static/index.css returned $code"
code=$(http "$WORK/docs.html" "$BASE_URL/docs/")
[[ $code == 200 ]] && grep -q 'swagger-ui' "$WORK/docs.html" || fail "GET /docs/ returned $code without the Swagger UI page"
log "GET /docs/ and /docs/static/index.css -> 200 (swagger-ui assets)"

docker logs "$CONTAINER" >"$WORK/pretty.log" 2>&1
grep -q 'INFO' "$WORK/pretty.log" && ! grep -q '"level":' "$WORK/pretty.log" \
  || { head -n 5 "$WORK/pretty.log" | sed 's/^/    /'; fail "logs on a terminal are not pino-pretty's"; }
log "logs on a terminal are pino-pretty's: $(grep -m1 'INFO' "$WORK/pretty.log" | sed 's/\x1b\[[0-9;]*m//g' | tr -d '\r' | cut -c1-80)"

code=$(http "$WORK/aud.json" -u "$TENANT:$SECRET" "$BASE_URL/rest/v1/audiences/$AUDIENCE")
[[ $code == 200 ]] || { head -c 500 "$WORK/aud.json"; echo; fail "GET audience with Basic auth returned $code"; }
ref=$(json_get "$WORK/aud.json" reference) || fail "audience body is not JSON"
[[ $ref == "$AUDIENCE" ]] || { head -c 500 "$WORK/aud.json"; echo; fail "audience body reference is '$ref', want '$AUDIENCE'"; }
log "GET /rest/v1/audiences/$AUDIENCE (Basic) -> 200, reference=$ref"

code=$(http "$WORK/noauth.json" "$BASE_URL/rest/v1/audiences/$AUDIENCE")
[[ $code == 401 ]] || fail "GET audience without credentials returned $code, want 401"
log "GET /rest/v1/audiences/$AUDIENCE (no auth) -> 401"

code=$(http "$WORK/token.json" -u "$TENANT:$SECRET" -d grant_type=client_credentials "$BASE_URL/oauth2/token/$TENANT")
[[ $code == 200 ]] || { head -c 500 "$WORK/token.json"; echo; fail "POST /oauth2/token returned $code"; }
token=$(json_get "$WORK/token.json" access_token) || fail "token body is not JSON"
[[ -n $token ]] || fail "token response has no access_token"
log "POST /oauth2/token/$TENANT -> 200 (access_token ${#token} chars)"

code=$(http "$WORK/aud2.json" -H "Authorization: Bearer $token" "$BASE_URL/rest/v1/audiences/$AUDIENCE")
[[ $code == 200 ]] || { head -c 500 "$WORK/aud2.json"; echo; fail "GET audience with Bearer token returned $code"; }
ref=$(json_get "$WORK/aud2.json" reference) || fail "audience body is not JSON"
[[ $ref == "$AUDIENCE" ]] || fail "audience body (Bearer) reference is '$ref'"
log "GET /rest/v1/audiences/$AUDIENCE (Bearer) -> 200"

step "checking user and shutdown"
# No shell or coreutils in the image: ask node.
uid=$(timeout 20 docker exec "$CONTAINER" node -e 'process.stdout.write(String(process.getuid()))') || fail "docker exec node (uid) failed"
[[ $uid =~ ^[0-9]+$ && $uid != 0 ]] || fail "container runs as uid '$uid', want non-root"
log "container runs as uid $uid"
# HOST=localhost goes through the C library's resolver, which must work with
# only the libraries that ldd listed for node.
addr=$(timeout 20 docker exec "$CONTAINER" node -e "require('node:dns').lookup('localhost', { family: 4 }, (e, a) => { if (e) throw e; process.stdout.write(a) })") \
  || fail "docker exec node (dns.lookup localhost) failed"
[[ $addr == 127.0.0.1 ]] || fail "localhost resolves to '$addr' in the container, want 127.0.0.1"
log "localhost resolves to $addr in the container"

stop_start=$(date +%s.%N)
timeout 30 docker stop -t 10 "$CONTAINER" >/dev/null || fail "docker stop failed"
stop_secs=$(awk -v a="$stop_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
exit_code=$(docker inspect -f '{{.State.ExitCode}}' "$CONTAINER")
[[ $exit_code == 0 ]] || { docker logs --tail 20 "$CONTAINER" 2>&1 | sed 's/^/    /'; fail "exit code after SIGTERM is $exit_code, want 0"; }
log "docker stop (SIGTERM) -> exit code 0 in ${stop_secs}s"
docker rm "$CONTAINER" >/dev/null
CONTAINER=""

# ---------------------------------------------------------------------------
# docker-compose
# ---------------------------------------------------------------------------
# The files under test, with the local base image as the build's BASE_IMAGE
# and the client's Node.js image, their own image tag and the test port. With
# BuildKit, compose builds through the docker CLI, so the build shares the
# cache of the one above. COMPOSE_FILES may be replaced below.
COMPOSE_FILES=(-f docker-compose.yml -f docker-compose.hostnet.yml)
COMPOSE_CMD=(env -C "$ROOT_DIR" "THRIVE_MOCK_IMAGE=$COMPOSE_IMAGE_TAG" "BASE_IMAGE=$BASE_TAG" "CLIENT_IMAGE=$BASE_TAG"
  "THRIVE_MOCK_PORT=$PORT" "COMPOSE_DOCKER_CLI_BUILD=$DOCKER_BUILDKIT"
  docker-compose --ansi never -p "$COMPOSE_PROJECT")
compose() { timeout 180 "${COMPOSE_CMD[@]}" "${COMPOSE_FILES[@]}" "$@"; }

step "docker-compose"
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
  fi
fi
if ! command -v docker-compose >/dev/null; then
  COMPOSE_STATUS="skipped (no docker-compose package)"
  log "docker-compose is not available from apt: skipping the compose check"
else
  log "$(docker-compose version --short 2>/dev/null | sed 's/^/docker-compose /')"
  (cd "$ROOT_DIR" && timeout 60 docker-compose -f docker-compose.yml config >"$WORK/compose-base.txt" 2>"$WORK/compose-base.err") \
    || { cat "$WORK/compose-base.err"; fail "docker-compose -f docker-compose.yml config failed"; }
  log "docker-compose.yml is valid"
  compose config >"$WORK/compose-hostnet.txt" 2>"$WORK/compose-hostnet.err" \
    || { cat "$WORK/compose-hostnet.err"; fail "docker-compose config with the hostnet override failed"; }
  [[ $(grep -c 'network_mode: host' "$WORK/compose-hostnet.txt") -eq 2 ]] \
    || fail "hostnet override does not put both services on network_mode: host"
  log "docker-compose.yml + docker-compose.hostnet.yml is valid"

  # docker-compose v1 (1.28+, via docker-py) refuses published ports together
  # with network_mode: host, where Compose v2 just ignores them. Run v1 on the
  # merged configuration with the (meaningless) published ports dropped.
  # Without the build's host network, `npm ci` in the build has no network on
  # such a host; without the BASE_IMAGE argument it needs an image registry.
  /usr/bin/python3 - "$WORK/compose-hostnet.txt" "$WORK/compose-merged.yml" "$BASE_TAG" <<'PY' || fail "the merged compose file does not build on the host network from BASE_IMAGE"
import sys, yaml
with open(sys.argv[1]) as f:
    config = yaml.safe_load(f)
build = config["services"]["thrive-mock"].get("build", {})
problems = []
if build.get("network") != "host":
    problems.append("thrive-mock's build.network is %r, want 'host'" % build.get("network"))
if (build.get("args") or {}).get("BASE_IMAGE") != sys.argv[3]:
    problems.append("thrive-mock's build.args.BASE_IMAGE is %r, want %r (from $BASE_IMAGE)" % ((build.get("args") or {}).get("BASE_IMAGE"), sys.argv[3]))
for problem in problems:
    print("    " + problem)
if problems:
    sys.exit(1)
for service in config.get("services", {}).values():
    if service.get("network_mode") == "host":
        service.pop("ports", None)
with open(sys.argv[2], "w") as f:
    yaml.safe_dump(config, f, default_flow_style=False, sort_keys=False)
PY
  COMPOSE_FILES=(-f "$WORK/compose-merged.yml")
  log "merged configuration: build on the host network from BASE_IMAGE=$BASE_TAG; published ports dropped (docker-compose v1)"

  build_start=$(date +%s)
  if ! bounded 420 "${COMPOSE_CMD[@]}" "${COMPOSE_FILES[@]}" build >"$WORK/compose-build.log" 2>&1; then
    tail -n 30 "$WORK/compose-build.log" | sed 's/^/    /'
    fail "docker-compose build failed"
  fi
  log "docker-compose build -> $COMPOSE_IMAGE_TAG in $(( $(date +%s) - build_start ))s"

  port_free "$PORT" || fail "port $PORT is still in use"
  COMPOSE_UP=1
  rc=0
  bounded 180 "${COMPOSE_CMD[@]}" "${COMPOSE_FILES[@]}" \
    up --no-color --no-build --abort-on-container-exit --exit-code-from client >"$WORK/compose-up.log" 2>&1 || rc=$?
  sed 's/^/    /' "$WORK/compose-up.log" | tail -n 25
  NETWORKS_AFTER=$(docker network ls -q --no-trunc | sort)
  compose down --remove-orphans --volumes --timeout 10 >/dev/null 2>&1 || log "docker-compose down reported an error"
  COMPOSE_UP=0
  [[ $NETWORKS_BEFORE == "$NETWORKS_AFTER" ]] || fail "docker-compose created a network"
  [[ $rc -eq 0 ]] || fail "docker-compose up: client exited with $rc"
  grep -q "client.*200" "$WORK/compose-up.log" || fail "compose client did not print a 200 response"
  COMPOSE_STATUS=ok
  log "docker-compose up: client got 200 from thrive-mock; torn down"
fi

CURRENT_STEP="done"
log "all checks passed"
