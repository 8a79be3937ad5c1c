# syntax=docker/dockerfile:1
# One image for every Tidemark service: `docker run tidemark:local <gateway|processor|projector|query>`.
# Built from the repository root (docker-compose.yml does: context ".", dockerfile infra/docker/tidemark.Dockerfile).
# Configuration is only environment variables (TIDEMARK_*), listed by `<command> --help` and in the README.

# --- build: install the workspaces, compile them (the platform and the contexts the deployment module names),
# drop dev dependencies
FROM node:20-bookworm AS build
WORKDIR /app
# No Nx daemon or cloud inside a build; the local cache would only bloat the layer.
ENV NX_DAEMON=false \
    NX_NO_CLOUD=true \
    NX_SKIP_NX_CACHE=true \
    CI=true
COPY . .
# `npm install`, not `npm ci`: the lock file leaves out other platforms' builds of Biome and Nx (see README).
RUN npm install --no-audit --no-fund
RUN npx nx run-many -t build --exclude=@tidemark/test --outputStyle=static
RUN npm prune --omit=dev --no-audit --no-fund \
  && rm -rf .nx /root/.npm

# --- runtime: node and the compiled workspaces, nothing else; runs unprivileged
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
# A 64 MB young generation (node's default is 16): projectors allocate a few objects per event while catching up,
# and fewer scavenges made catch-up ~15% faster (BENCHMARKS.md, read path). `tidemark up` gives its projector
# children the same flag.
ENV NODE_OPTIONS=--max-semi-space-size=64
# glibc malloc on transparent huge pages, keeping freed heap for reuse: a catching-up projector page-faulted ~400,000
# times per million events (fresh 64 MB fetch buffers, a growing and shrinking heap); `tidemark up` gives
# its projector children the same (services/ops/src/service-child.ts). The other services only keep a little more
# memory resident. (`--min-semi-space-size`, which `tidemark up` adds too, is not allowed in NODE_OPTIONS.)
ENV GLIBC_TUNABLES=glibc.malloc.hugetlb=1:glibc.malloc.trim_threshold=536870912:glibc.malloc.top_pad=67108864
WORKDIR /app
COPY --from=build /app /app
# The deployment module: which contexts, projections and queries every service hosts. Replace it (a volume, or
# an image built FROM this one) to host your own contexts.
ENV TIDEMARK_CONFIG=/app/tidemark.config.js
USER node
# The default ports of `tidemark gateway` (8080) and `tidemark query` (8081); processors and projectors serve
# /metrics and /healthz on TIDEMARK_METRICS_PORT.
EXPOSE 8080 8081
ENTRYPOINT ["node", "services/ops/bin/tidemark.js"]
CMD ["--help"]
