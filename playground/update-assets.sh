#!/usr/bin/env bash
# Refreshes the vendored GraphiQL files in playground/assets/ from their npm
# releases, so the Playground page needs no CDN. Run it from anywhere; it needs
# node and npm and the npm registry, nothing else.
#
# To upgrade, change the versions below (GraphiQL 3.x ships a UMD bundle that
# expects React and ReactDOM as globals; React 18 is the last release with UMD
# builds), run this script, then `go test ./playground/` and `bash e2e/run.sh`.
set -euo pipefail

GRAPHIQL_VERSION=3.9.0
REACT_VERSION=18.3.1

here="$(cd "$(dirname "$0")" && pwd)"
dest="$here/assets"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cd "$tmp"
# npm pack downloads the exact published tarballs and checks them against the
# registry's integrity hashes; nothing is installed or executed.
npm pack --silent "graphiql@$GRAPHIQL_VERSION" "react@$REACT_VERSION" "react-dom@$REACT_VERSION" >/dev/null
unpack() { mkdir "$1" && tar xzf "$1-$2.tgz" -C "$1" --strip-components=1; }
unpack graphiql "$GRAPHIQL_VERSION"
unpack react "$REACT_VERSION"
unpack react-dom "$REACT_VERSION"

# Only the files the page loads.
cp graphiql/graphiql.min.js graphiql/graphiql.min.css "$dest/"
cp react/umd/react.production.min.js "$dest/"
cp react-dom/umd/react-dom.production.min.js "$dest/"
cp graphiql/LICENSE "$dest/LICENSE.graphiql"
cp react/LICENSE "$dest/LICENSE.react"

cat >"$dest/VERSIONS" <<VERSIONS
graphiql@$GRAPHIQL_VERSION: graphiql.min.js graphiql.min.css (LICENSE.graphiql)
react@$REACT_VERSION: umd/react.production.min.js (LICENSE.react)
react-dom@$REACT_VERSION: umd/react-dom.production.min.js (LICENSE.react)
VERSIONS
(cd "$dest" && sha256sum graphiql.min.js graphiql.min.css react.production.min.js react-dom.production.min.js >SHA256SUMS)
echo "vendored into $dest:"
cat "$dest/VERSIONS"
