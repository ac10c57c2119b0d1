# A small image with bedform as its entry point:
#   docker build -t bedform .
#   docker run --rm -v "$PWD:/work" -w /work bedform validate bedrock
# The build stage compiles the same binary `cargo build --release --locked` does.
FROM rust:1.94-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY schemas ./schemas
COPY benches ./benches
RUN cargo build --release --locked --bin bedform

FROM gcr.io/distroless/cc-debian12
COPY --from=build /src/target/release/bedform /usr/local/bin/bedform
ENTRYPOINT ["/usr/local/bin/bedform"]
