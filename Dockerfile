# Thrive Learning audience API mock server.
#
# Build:  docker build -t thrive-audience-mock .
# Run:    docker run --rm -p 8080:8080 thrive-audience-mock
# HTTPS:  docker run --rm -p 8443:8443 -e HTTPS_PORT=8443 -v thrive-tls:/tls thrive-audience-mock
#         (the mock's CA is written to the volume as /tls/ca.pem; a client
#         container mounts it read-only with NODE_EXTRA_CA_CERTS=/tls/ca.pem)
#
# BASE_IMAGE must provide Node.js (>= 20.19) with npm and ldd on PATH, like the
# official node images do. Any registry or CA configuration that npm needs to
# reach its registry belongs in that base image, not here.
ARG BASE_IMAGE=node:22-alpine

# ---------------------------------------------------------------------------
# build: install every dependency, compile, bundle, and lay out the runtime
# image's whole file system in /runtime
# ---------------------------------------------------------------------------
FROM ${BASE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# The runtime holds only what `node dist/cli.bundle.js` loads: the base image's
# node and the shared libraries it links (as ldd lists them, glibc or musl),
# the bundle without its source map, package.json (the app reads its version),
# the fixtures, and the packages the bundle leaves to node_modules with their
# dependencies at the locked versions (scripts/runtime-modules.mjs).
RUN set -eu; \
    command -v ldd >/dev/null || { echo "BASE_IMAGE has no ldd: cannot list node's shared libraries" >&2; exit 1; }; \
    node_bin=$(command -v node); \
    mkdir -p /runtime/usr/local/bin /runtime/etc /runtime/tmp /runtime/app/dist /tls-dir; \
    cp -L "$node_bin" /runtime/usr/local/bin/node; \
    for lib in $(ldd "$node_bin" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }'); do \
      mkdir -p "/runtime$(dirname "$lib")"; \
      cp -L "$lib" "/runtime$lib"; \
    done; \
    if [ -f /etc/ld.so.cache ]; then cp /etc/ld.so.cache /runtime/etc/; fi; \
    printf 'root:x:0:0:root:/root:/sbin/nologin\nnode:x:1000:1000:node:/home/node:/sbin/nologin\n' >/runtime/etc/passwd; \
    printf 'root:x:0:\nnode:x:1000:\n' >/runtime/etc/group; \
    chmod 1777 /runtime/tmp; \
    cp dist/cli.bundle.js /runtime/app/dist/; \
    cp -R package.json fixtures /runtime/app/; \
    node scripts/runtime-modules.mjs /runtime/app; \
    chroot /runtime /usr/local/bin/node --version >/dev/null

# ---------------------------------------------------------------------------
# runtime: no shell, no npm, no package manager; files owned by root, since
# the server only reads them
# ---------------------------------------------------------------------------
FROM scratch AS runtime
COPY --from=build /runtime /
# Where the mock keeps its CA with HTTPS_PORT set: owned by the server's user so it can write the CA there, and
# readable by others so a client container that mounts the same volume can read ca.pem (the key is 0600).
COPY --from=build --chown=1000:1000 /tls-dir /tls
WORKDIR /app

ENV PATH=/usr/local/bin \
    NODE_ENV=production \
    PORT=8080 \
    HOST=0.0.0.0 \
    TLS_CA_DIR=/tls

# The "node" user of the official images, by number so that a runtime can
# check it is not root without reading /etc/passwd.
USER 1000:1000
EXPOSE 8080 8443

# No curl in the image: probe the health endpoint with Node's built-in fetch.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/__mock/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# node runs as PID 1 and handles SIGTERM/SIGINT itself (graceful close), so
# `docker stop` ends it cleanly. To also reap stray child processes, run the
# container with `docker run --init` (or `init: true` in compose).
STOPSIGNAL SIGTERM
CMD ["node", "dist/cli.bundle.js"]
