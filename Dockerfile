# Multi-stage build: compile the server and the WASM site, then ship both on a slim base.
# (Not built on the development machine, which cannot reach Docker Hub.)
FROM rust:1-bookworm AS build
RUN rustup target add wasm32-unknown-unknown \
 && cargo install --locked cargo-leptos --version 0.3.11 \
 && cargo install --locked wasm-opt --version 0.116.1
WORKDIR /src
COPY . .
RUN WASM_BINDGEN=$(grep -A1 'name = "wasm-bindgen"' Cargo.lock | sed -n 's/version = "\(.*\)"/\1/p' | head -1) \
 && cargo install --locked wasm-bindgen-cli --version "$WASM_BINDGEN" \
 && LEPTOS_HASH_FILES=true LEPTOS_SITE_ROOT=target/site-release cargo leptos build --release

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates libssl3 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /var/lib/dynamic-otp dynamic-otp \
 && mkdir -p /var/lib/dynamic-otp && chown dynamic-otp /var/lib/dynamic-otp
WORKDIR /app
COPY --from=build /src/target/release/dynamic_otp /app/dynamic_otp
# The asset names' hashes; the server reads this file from beside its binary.
COPY --from=build /src/target/release/hash.txt /app/hash.txt
COPY --from=build /src/target/site-release /app/site
USER dynamic-otp
ENV LEPTOS_ENV=PROD \
    LEPTOS_SITE_ADDR=0.0.0.0:3000 \
    LEPTOS_SITE_ROOT=/app/site \
    LEPTOS_HASH_FILES=true \
    DOTP_DATA_DIR=/var/lib/dynamic-otp \
    DOTP_DATABASE_URL=surrealkv:///var/lib/dynamic-otp/app.db
VOLUME ["/var/lib/dynamic-otp"]
EXPOSE 3000
# Probe GET /healthz (alive) and GET /readyz (ready for traffic) from the orchestrator.
CMD ["/app/dynamic_otp"]
