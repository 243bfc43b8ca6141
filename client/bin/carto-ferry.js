#!/usr/bin/env node
// Entry point for `npx carto-ferry`: runs the TypeScript CLI through tsx, so no build step is needed.
require('tsx/cjs');
require('../cli.ts')
  .runCli(process.argv.slice(2))
  .then((code) => process.exit(code));
