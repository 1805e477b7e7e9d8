# exai-mcp as an HTTP server image. Build from the repository root:
#   docker build -t exai-mcp .
# Run (binding beyond loopback inside the container requires a token):
#   docker run -p 127.0.0.1:8079:8079 -e EXAI_HTTP_TOKEN=... -e GLM_API_KEY=... -v exai-data:/data exai-mcp

FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles from source when no prebuilt binary matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
# `npm ci` builds dist/ through the prepare script; then the dev dependencies go.
RUN npm ci && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    EXAI_HTTP_HOST=0.0.0.0 \
    EXAI_HTTP_PORT=8079 \
    EXAI_DATA_DIR=/data \
    EXAI_ALLOWED_ROOTS=/workspace
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /data /workspace && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8079
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8079/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/cli/main.js", "http"]
