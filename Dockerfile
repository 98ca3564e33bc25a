# The devcompat registry server. Not built in CI (no container daemon there): kept small and
# obvious. Build: docker build -t devcompat .   Run: docker run -p 50051:50051 -v devcompat:/data devcompat
# Stage 1 builds the package tarball (TypeScript compiled, better-sqlite3 compiled from source);
# stage 2 installs only the tarball and its runtime dependencies, and runs as a non-root user.
FROM node:24-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN npm ci && npm pack --pack-destination /tmp && mkdir /app && cd /app \
    && echo '{"private":true,"allowScripts":{"better-sqlite3":true}}' > package.json \
    && npm install --omit=dev --no-audit --no-fund /tmp/devcompat-*.tgz

FROM node:24-bookworm-slim
COPY --from=build /app /app
RUN useradd --system --uid 10001 --home-dir /data devcompat && mkdir /data && chown devcompat /data
USER devcompat
VOLUME /data
# NODE_OPTIONS: V8's young generation, fixed when node starts (server/heap-settings.ts); Node 24
# lets it grow to 64 MB semi-spaces, about 100 MB more for a large fleet. `docker run -e
# NODE_OPTIONS=...` replaces it: keep the flag there.
ENV NODE_OPTIONS=--max-semi-space-size=16 \
    DEVCOMPAT_DB=/data/devcompat.db \
    DEVCOMPAT_LISTEN_ADDRESS=0.0.0.0:50051 \
    DEVCOMPAT_ADDRESS=127.0.0.1:50051
EXPOSE 50051
# Plaintext on 0.0.0.0 needs --insecure: put TLS in front, or mount certificates and set
# DEVCOMPAT_TLS_CERT / DEVCOMPAT_TLS_KEY (docs/security.md) and drop --insecure.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s CMD ["/app/node_modules/.bin/devcompat", "--timeout", "4000", "health"]
ENTRYPOINT ["/app/node_modules/.bin/devcompat"]
CMD ["serve", "--insecure"]
