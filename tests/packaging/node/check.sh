#!/usr/bin/env bash
# Packs the Node bindings as they are published (npm pack: the tarball carries libember.so from
# BUILD_DIR), installs the tarball into a new project outside the repository, type-checks a
# TypeScript program against the package's index.d.ts (tsc --strict) and runs it with no
# EMBER_LIBRARY: the package must find its own library.
#   check.sh BUILD_DIR MODEL
. "$(dirname "$0")/../setup.sh" test-node-package "$@"
mkdir -p "$work/src" "$work/app"
# From a copy: packing leaves nothing in the repository.
cp -r "$repo/bindings/node/." "$work/src/"
rm -rf "$work/src/node_modules" "$work/src/lib"
tarball=$(cd "$work/src" && EMBER_BUILD_DIR=$build npm pack --silent --pack-destination "$work")
grep -qx 'package/lib/libember.so.2' <<<"$(tar -tzf "$work/$tarball")" || { echo "node package: the tarball lacks lib/libember.so.2" >&2; exit 1; }
cd "$work/app"
cat > package.json <<JSON
{ "name": "use-ember", "version": "1.0.0", "private": true,
  "dependencies": { "ember-llm": "file:$work/$tarball" },
  "devDependencies": { "typescript": "5.6.3", "@types/node": "20.17.10" } }
JSON
npm install --silent --no-audit --no-fund
cp "$here/use_ember.ts" .
npx tsc --strict --target es2022 --module commonjs --moduleResolution node --types node use_ember.ts
env -u EMBER_LIBRARY -u LD_LIBRARY_PATH node use_ember.js "$model"
