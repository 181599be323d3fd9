# syntax=docker/dockerfile:1
# The image the Auto Scaling Group runs and docker-compose.yml starts three times: build with dev dependencies,
# ship only production dependencies and the compiled service with its Lua scripts and SQL migrations. The same
# image runs the order worker (`node dist/app/worker.js`) and the migrations (`node dist/app/migrate.js`).
# test/docker/image.test.ts reads this file and replays its stages without a Docker engine: keep to the
# instructions it understands (FROM, WORKDIR, COPY, RUN, ENV, USER, EXPOSE, HEALTHCHECK, CMD).

# Node 24, the LTS line supported until April 2028: the line of .nvmrc, which CI and the tests run on.
# Compiles the service (and the attack harness, which compose's `attack` service runs from this stage).
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY app ./app
COPY attack ./attack
RUN npm run build

# Production dependencies alone, installed from the lock file, not pruned from the build's tree.
FROM node:24-bookworm-slim AS prod-deps
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production PORT=3000
WORKDIR /srv
# Owned by root and read-only to the service's user: the process cannot rewrite its own code.
COPY --from=prod-deps /src/package.json ./
COPY --from=prod-deps /src/node_modules ./node_modules
COPY --from=build /src/dist/app ./dist/app
USER node
EXPOSE 3000
# node itself answers the probe: the slim image has no curl or wget. Liveness only; the load balancer checks
# readiness (/health) itself.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/live',{signal:AbortSignal.timeout(2000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node, not npm start: SIGTERM must reach the service for its graceful shutdown.
CMD ["node", "dist/app/main.js"]
