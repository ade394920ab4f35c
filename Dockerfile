# astrad in a container: a build stage (gcc, -O2) and a slim runtime stage.
#
#   docker compose up -d                 (see docker-compose.yml)
#   docker build -t astrad . && docker run -p 3100:3100 -p 127.0.0.1:3000:3000 astrad
#
# The Debian package lists are read from deps/build.txt and deps/runtime.txt, the same files
# scripts/deps.sh uses on a machine, so a new library is added in one place only.
# Tested without a Docker engine by ../shared/tools/image-check (buildah), see tests/container.sh.

# ---- build ----
FROM debian:bookworm-slim AS build
ARG DEBIAN_FRONTEND=noninteractive
WORKDIR /src
COPY deps/ deps/
# comment lines ('#') and 'cmd:' lines (scripts/deps.sh only) are not package names
RUN apt-get update \
 && grep -Ev '^(#|cmd:|[[:space:]]*$)' deps/build.txt | xargs apt-get install -y --no-install-recommends \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
COPY Makefile VERSION ./
COPY include/ include/
COPY src/ src/
# the Makefile lists tests/unit/harness.h among every object's header prerequisites
COPY tests/unit/harness.h tests/unit/harness.h
RUN make -j2 CC=gcc && strip build/astrad && ./build/astrad --version

# ---- runtime ----
FROM debian:bookworm-slim
ARG DEBIAN_FRONTEND=noninteractive
COPY deps/runtime.txt /tmp/runtime.txt
# libwebsockets-evlib-uv is in the list: libwebsockets dlopens it at run time (ldd misses it)
RUN apt-get update \
 && grep -Ev '^(#|cmd:|[[:space:]]*$)' /tmp/runtime.txt | xargs apt-get install -y --no-install-recommends \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /tmp/runtime.txt \
 && groupadd --gid 10001 astra \
 && useradd --uid 10001 --gid astra --home-dir /app --no-create-home --shell /usr/sbin/nologin astra \
 && mkdir -p /app/data /app/logs \
 && chown astra:astra /app/data /app/logs
WORKDIR /app
COPY --from=build /src/build/astrad /usr/local/bin/astrad
COPY web/ /app/web/

# Inside the container both listeners bind every interface: the admin port is published only
# on the host's loopback by docker-compose.yml ("127.0.0.1:3000:3000"), which is where the
# protection belongs once the daemon runs behind a port mapping.
ENV DATA_DIR=/app/data \
    LOG_DIR=/app/logs \
    WEB_DIR=/app/web \
    PORTAL_HOST=0.0.0.0 \
    ADMIN_HOST=0.0.0.0
VOLUME ["/app/data", "/app/logs"]
EXPOSE 3100 3000
USER astra
# shell form, so that a PORTAL_PORT given at run time is honoured
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${PORTAL_PORT:-3100}/health" >/dev/null || exit 1
# SIGTERM (docker stop) drains requests in flight for SHUTDOWN_GRACE_MS, then makes the
# store durable; docker-compose.yml gives it stop_grace_period: 30s.
ENTRYPOINT ["astrad"]
