# modelseal as an init-container image: `modelseal verify …` (or the model_signing forms,
# `modelseal verify key|certificate|sigstore MODEL …`) exits 0 when the model verifies and non-zero
# otherwise, which blocks the pod. See docs/deploy.md.
#
# Not built in this repository's CI (the build machine has no container runtime): build it with
#   docker build -t modelseal:0.1.0 .
# and check it with
#   docker run --rm modelseal:0.1.0 doctor

# --- build: TypeScript and the native addon (cmake-js, C++17) ---
FROM node:20-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake g++ make python3 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json tsconfig.json CMakeLists.txt ./
COPY native native
COPY scripts scripts
COPY src src
COPY bin bin
COPY shaders shaders
COPY wasm wasm
# the install script builds the addon; strict: a failed native build fails the image build
RUN MODELSEAL_NATIVE_STRICT=1 npm ci \
 && npm run build:ts \
 && npm prune --omit=dev

# --- runtime: Node, the compiled CLI, the addon, production dependencies only ---
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /opt/modelseal
COPY --from=build /src/package.json ./
COPY --from=build /src/bin bin
COPY --from=build /src/dist dist
COPY --from=build /src/build/Release/modelseal.node build/Release/modelseal.node
COPY --from=build /src/shaders shaders
COPY --from=build /src/wasm wasm
COPY --from=build /src/node_modules node_modules
RUN ln -s /opt/modelseal/bin/modelseal.js /usr/local/bin/modelseal \
 && modelseal --version
# init containers run as a non-root user and only read the model
USER node
WORKDIR /
ENTRYPOINT ["modelseal"]
CMD ["--help"]
