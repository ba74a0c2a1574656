# syntax=docker/dockerfile:1
#
# The observability CLI as a container image: `docker run IMAGE run ingest_airflow` runs one job and exits.
# scripts/image-smoke.sh reproduces these steps without a Docker engine (it runs in CI); keep the two in step.
#
#   docker build -t observability:dev .
#   docker run --rm --read-only observability:dev            # lists the jobs
#   docker run --rm --read-only --env-file prod.env observability:dev run ingest_airflow
#
# Pin NODE_IMAGE to a digest (node:22-bookworm-slim@sha256:...) in your registry's build for reproducibility.
ARG NODE_IMAGE=node:22-bookworm-slim

# ---- build: every dependency (TypeScript among them), compile src/ to dist/ --------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are copied; the build runs explicitly below.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/copy-schema.mjs scripts/
COPY src/ src/
# tsc, then the SQL migrations are copied next to the compiled code (dist/db/schema).
RUN npm run build

# ---- runtime: production dependencies only, the compiled CLI, a non-root user ----------------------------
FROM ${NODE_IMAGE} AS runtime
# Only the embedded PGlite database and the Slack outbox write files; production uses DATABASE_URL and a Slack
# token, so nothing is written and the root filesystem can be read-only. For the embedded/outbox modes, mount a
# writable volume at OBSERVABILITY_DATA_DIR.
ENV NODE_ENV=production \
    OBSERVABILITY_DATA_DIR=/var/lib/observability
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` runs `npm run build`, which needs TypeScript (a dev dependency); dist/ comes from
# the build stage instead. No production dependency has an install script.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
    && npm cache clean --force \
    && mkdir -p /var/lib/observability \
    && chown 1000:1000 /var/lib/observability
COPY --from=build /src/dist ./dist
# The image's `node` user, numerically, so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
VOLUME ["/var/lib/observability"]
# Node runs as PID 1: the CLI installs its own SIGTERM/SIGINT handlers (src/bin.ts), so a pod's SIGTERM stops
# the run at the next batch boundary.
ENTRYPOINT ["node", "/app/dist/bin.js"]
CMD ["list"]
