# layerlab's web server in a small image.
#
#   docker build -t layerlab .
#   docker run --rm -p 8080:8080 layerlab        # then open http://localhost:8080/
#
# The builder runs `cargo xtask dist`, the very command CI runs on every
# change (`cargo xtask test` calls it), so this recipe cannot rot unnoticed.
# The image is linted in CI too (dockerfilelint, and web/server/tests/dockerfile.rs).

FROM rust:1.95-slim-bookworm AS build
# npm fetches binaryen's wasm-opt, which shrinks the app (see xtask/src/web.rs).
RUN apt-get update \
  && apt-get install -y --no-install-recommends nodejs npm \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# Builds the wasm app (`cargo xtask web`), then the server with it embedded.
RUN cargo xtask dist

FROM debian:bookworm-slim
# A fixed, unprivileged user: the server needs no rights beyond its port.
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin layerlab
COPY --from=build /src/target/release/layerlab /usr/local/bin/layerlab
USER 10001
EXPOSE 8080
# The binary probes /api/health itself, so the image needs no curl.
HEALTHCHECK --interval=30s --timeout=5s --retries=3 \
  CMD ["layerlab", "serve", "--port", "8080", "--health-check"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["layerlab"]
# Inside the container the server must listen on every interface; which
# host ports reach it is decided by `docker run -p`.
CMD ["serve", "--bind", "0.0.0.0", "--port", "8080"]
