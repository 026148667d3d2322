# Thrive Learning audience API mock server.
#
# Build:  docker build -t thrive-audience-mock .
# Run:    docker run --rm -p 8080:8080 thrive-audience-mock
#
# BASE_IMAGE must provide Node.js (>= 20.19) with npm on PATH, like the official
# node images do. Any registry or CA configuration that npm needs to reach its
# registry belongs in that base image, not here.
ARG BASE_IMAGE=node:22-alpine

# ---------------------------------------------------------------------------
# build: install every dependency and compile TypeScript to dist/
# ---------------------------------------------------------------------------
FROM ${BASE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# ---------------------------------------------------------------------------
# runtime: production dependencies, compiled output and built-in fixtures only
# ---------------------------------------------------------------------------
FROM ${BASE_IMAGE} AS runtime

# The official node images ship a non-root "node" user (uid 1000); create it
# when the base image does not have one.
RUN if ! id -u node >/dev/null 2>&1; then \
      groupadd --gid 1000 node \
      && useradd --no-log-init --uid 1000 --gid node --shell /bin/sh --create-home node; \
    fi

WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
    && npm cache clean --force \
    && rm -rf /root/.npm /tmp/*

# Application files stay owned by root: the server only needs to read them.
COPY --from=build /app/dist ./dist
COPY fixtures ./fixtures

ENV NODE_ENV=production \
    PORT=8080 \
    HOST=0.0.0.0

USER node
EXPOSE 8080

# No curl in the image: probe the health endpoint with Node's built-in fetch.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/__mock/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# node runs as PID 1 and handles SIGTERM/SIGINT itself (graceful close), so
# `docker stop` ends it cleanly. To also reap stray child processes, run the
# container with `docker run --init` (or `init: true` in compose).
STOPSIGNAL SIGTERM
CMD ["node", "dist/cli.bundle.js"]
