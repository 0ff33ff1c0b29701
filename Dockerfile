# layerlab's web server in a small image.
#
#   docker build -t layerlab .
#   docker run --rm -p 8080:8080 layerlab        # then open http://localhost:8080/
#
# That serves the course only, as an unprivileged user. A workshop, where
# every learner gets lab sandboxes, runs the same image as container root
# with five capabilities; see docs/workshop-guide.md for the full command
# and docs/threat-model.md for why each flag is there.
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
# What the lab sandboxes run (labs/src/tools.rs and the labs' `tools:`):
# bubblewrap and util-linux (setpriv, unshare, nsenter) build the confined
# sandboxes; the rest are the tools learners and checks use inside them.
RUN apt-get update \
  && apt-get install -y --no-install-recommends bubblewrap util-linux iproute2 iptables nftables conntrack tcpdump containernetworking-plugins bird2 haproxy nginx-light dnsmasq-base curl iputils-ping procps jq bind9-dnsutils \
  && rm -rf /var/lib/apt/lists/*
# A fixed, unprivileged user for the course-only default; the workshop's
# data folder (roster, session key, instructor token) is root's alone.
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin layerlab \
  && mkdir -p /var/lib/layerlab /etc/layerlab \
  && chmod 700 /var/lib/layerlab
COPY --from=build /src/target/release/layerlab /usr/local/bin/layerlab
COPY docker/workshop-entrypoint.sh /usr/local/bin/layerlab-workshop
COPY docker/workshop.example.toml /etc/layerlab/workshop.toml
VOLUME /var/lib/layerlab
USER 10001
EXPOSE 8080
# The binary probes /api/health itself, so the check needs no curl.
HEALTHCHECK --interval=30s --timeout=5s --retries=3 \
  CMD ["layerlab", "serve", "--port", "8080", "--health-check"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["layerlab"]
# Inside the container the server must listen on every interface; which
# host ports reach it is decided by `docker run -p`.
CMD ["serve", "--bind", "0.0.0.0", "--port", "8080"]
