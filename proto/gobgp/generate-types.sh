#!/bin/sh
# Regenerates src/gobgp/generated/ from the subset. The loader options in
# src/gobgp/client.ts (keepCase, longs, enums, defaults, oneofs) must match these flags.
set -eu
cd "$(dirname "$0")/../.."
rm -rf src/gobgp/generated
npx proto-loader-gen-types --keepCase --longs=Number --enums=String --defaults --oneofs \
  --grpcLib=@grpc/grpc-js --importFileExtension=.js \
  -I proto/gobgp -O src/gobgp/generated gobgp.proto attribute.proto
