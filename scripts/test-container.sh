#!/usr/bin/env bash
# Container test: checks of the image. After the machine setup
# (scripts/container-setup.sh: tools, a private Docker engine, the local base
# image), it builds the image and checks that every package the bundle loads
# from node_modules is in it, that it serves (with --generate, /docs and pretty
# logs on a terminal), is healthy, runs as non-root and stops cleanly on
# SIGTERM; then validates docker-compose.yml, and builds and runs it with the
# host-network override on the local base image.
#
# Runs as root on Debian 12 with only the npm registry and Debian's mirror
# reachable: no image registry is used.
#
# Everything it starts or creates (engine, containers, images, temp dirs) is
# removed on exit. Only the rootfs tarball cache is kept, in
# $THRIVE_MOCK_BASE_CACHE (default /var/cache/thrive-mock-base). With
# THRIVE_MOCK_ENGINE_DIR set, the engine there (set up now, or found running
# from an earlier container-setup.sh) and its base image are left running;
# only this run's containers and images are removed.
#
# Environment:
#   THRIVE_MOCK_ENGINE_DIR   use (and keep) the engine in this directory
#   THRIVE_MOCK_BASE_CACHE   cache directory for the base rootfs tarball
#   THRIVE_MOCK_NO_CACHE=1   ignore (and refresh) the cached rootfs
#   THRIVE_MOCK_TEST_PORT    port for the container (default 18080 if free)
#   THRIVE_MOCK_KEEP=1       keep the temp dir and engine logs for debugging
set -euo pipefail

SCRIPT_NAME=test-container
SCRIPT_START=$(date +%s)
ROOT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/container-lib.sh
source "$ROOT_DIR/scripts/container-lib.sh"

IMAGE_TAG=thrive-audience-mock:test
COMPOSE_IMAGE_TAG=thrive-audience-mock:compose-test
TENANT=eu-west-2_AcmeCorp1
SECRET=acme-api-secret-0001
AUDIENCE=engineering
COMPOSE_PROJECT=thrivemockctest

WORK=""
# This run's own engine unless one was named: then that engine is left running.
OWN_ENGINE=0
ENGINE_DIR=${THRIVE_MOCK_ENGINE_DIR:-}
CONTAINER=""
COMPOSE_UP=0
COMPOSE_STATUS="not run"
IMAGE_MB="?"
BUILD_SECS="?"
THRIVE_MOCK_BASE_SECS="?"

# ---------------------------------------------------------------------------
# cleanup: everything created by this run, bounded in time
# ---------------------------------------------------------------------------
cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  # A signal may arrive inside a step whose output goes to a log file.
  exec 1>&3 2>&4
  if [[ -n $BG_PID ]] && alive "$BG_PID"; then
    stop_pid "$BG_PID" 20 || kill -KILL "$BG_PID" 2>/dev/null
  fi
  if [[ $rc -ne 0 && -n $ENGINE_DIR && -S $ENGINE_DIR/docker.sock ]]; then
    if [[ -n $CONTAINER ]]; then
      log "container logs ($CONTAINER):"
      timeout 10 docker logs --tail 40 "$CONTAINER" 2>&1 | sed 's/^/    /'
    fi
  fi
  if [[ -n $ENGINE_DIR && -S $ENGINE_DIR/docker.sock ]]; then
    if [[ $COMPOSE_UP -eq 1 ]]; then
      compose down --remove-orphans --volumes --timeout 10 >/dev/null 2>&1
    fi
    if [[ -n $CONTAINER ]]; then
      timeout 30 docker rm -f "$CONTAINER" >/dev/null 2>&1
    fi
    if [[ $OWN_ENGINE -eq 1 ]]; then
      local ids=()
      mapfile -t ids < <(timeout 10 docker ps -aq 2>/dev/null)
      [[ ${#ids[@]} -gt 0 ]] && timeout 30 docker rm -f "${ids[@]}" >/dev/null 2>&1
      timeout 20 docker network prune -f >/dev/null 2>&1
    fi
    timeout 60 docker rmi -f "$IMAGE_TAG" "$COMPOSE_IMAGE_TAG" >/dev/null 2>&1
  fi
  if [[ $OWN_ENGINE -eq 1 ]]; then
    bash "$ROOT_DIR/scripts/container-setup.sh" --stop
  fi
  if [[ -n $WORK && -d $WORK ]]; then
    if [[ ${THRIVE_MOCK_KEEP:-0} == 1 ]]; then
      log "kept $WORK"
    else
      rm -rf --one-file-system "$WORK"
    fi
  fi
  local total=$(( $(date +%s) - SCRIPT_START ))
  if [[ $rc -eq 0 ]]; then
    echo "test-container: PASS image=$IMAGE_TAG size=${IMAGE_MB}MB base=${THRIVE_MOCK_BASE_SECS}s build=${BUILD_SECS}s compose=$COMPOSE_STATUS total=${total}s"
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
# machine setup: tools, engine, base image
# ---------------------------------------------------------------------------
step "machine setup"
WORK=$(mktemp -d /tmp/tmct.XXXXXX)
chmod 711 "$WORK"
if [[ -z $ENGINE_DIR ]]; then
  ENGINE_DIR=$WORK/engine
  OWN_ENGINE=1
fi
export THRIVE_MOCK_ENGINE_DIR=$ENGINE_DIR
bounded 1500 bash "$ROOT_DIR/scripts/container-setup.sh" || fail "machine setup failed"
# shellcheck disable=SC1091
source "$ENGINE_DIR/env"
BASE_TAG=$THRIVE_MOCK_BASE_TAG
NETWORKS_BEFORE=$(docker network ls -q --no-trunc | sort)

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
# HTTPS beside HTTP, the CA written to a volume owned by the image's user (as a named volume would be).
HTTPS_PORT=$(node -e "const s=require('net').createServer();s.listen(0,'0.0.0.0',()=>{console.log(s.address().port);s.close()})")
TLS_DIR=$WORK/tls
mkdir -p "$TLS_DIR" && chown 1000:1000 "$TLS_DIR" && chmod 755 "$TLS_DIR"
docker run -d -t --network host --name "$CONTAINER" -e "PORT=$PORT" -e "GENERATE=$GENERATE" \
  -e "HTTPS_PORT=$HTTPS_PORT" -e TLS_HOSTNAMES=thrive-mock -v "$TLS_DIR:/tls" \
  --health-interval 2s --health-start-period 2s "$IMAGE_TAG" >/dev/null
log "container $CONTAINER on port $PORT (HTTPS $HTTPS_PORT), GENERATE=$GENERATE, with a terminal"

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

[[ -s $TLS_DIR/ca.pem ]] || fail "the container wrote no CA to its /tls volume"
code=$(http "$WORK/aud-tls.json" --cacert "$TLS_DIR/ca.pem" -u "$TENANT:$SECRET" "https://127.0.0.1:$HTTPS_PORT/rest/v1/audiences/$AUDIENCE")
[[ $code == 200 ]] || { head -c 500 "$WORK/aud-tls.json"; echo; fail "GET audience over HTTPS, trusting the CA from the volume, returned $code"; }
ref=$(json_get "$WORK/aud-tls.json" reference) || fail "audience body (HTTPS) is not JSON"
[[ $ref == "$AUDIENCE" ]] || fail "audience body (HTTPS) reference is '$ref'"
code=$(http "$WORK/health-tls.json" --cacert "$TLS_DIR/ca.pem" --resolve "thrive-mock:$HTTPS_PORT:127.0.0.1" "https://thrive-mock:$HTTPS_PORT/__mock/health")
[[ $code == 200 ]] || fail "GET https://thrive-mock:$HTTPS_PORT/__mock/health (a --tls-hostnames name) returned $code"
code=$(http "$WORK/ca-served.pem" "$BASE_URL/__mock/ca.pem")
[[ $code == 200 ]] && cmp -s "$WORK/ca-served.pem" "$TLS_DIR/ca.pem" || fail "GET /__mock/ca.pem returned $code, not the CA in the volume"
log "HTTPS on $HTTPS_PORT, trusting only the CA from the volume (curl --cacert): audience 200, thrive-mock name verifies, /__mock/ca.pem is that CA"

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
  "THRIVE_MOCK_PORT=$PORT" "THRIVE_MOCK_HTTPS_PORT=$HTTPS_PORT" "COMPOSE_DOCKER_CLI_BUILD=$DOCKER_BUILDKIT"
  docker-compose --ansi never -p "$COMPOSE_PROJECT")
compose() { timeout 180 "${COMPOSE_CMD[@]}" "${COMPOSE_FILES[@]}" "$@"; }

step "docker-compose"
# container-setup.sh installed docker-compose when apt has it.
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
  log "docker-compose up: client got 200 from thrive-mock over HTTPS (NODE_EXTRA_CA_CERTS from the volume); torn down"
fi

CURRENT_STEP="done"
log "all checks passed"
