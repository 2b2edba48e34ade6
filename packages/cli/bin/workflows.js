#!/usr/bin/env node
// The production entry: the esbuild bundle of dist/bin.js (see scripts/bundle.mjs), built by `npm run build`.
import "../dist/bundle/workflows.mjs"
