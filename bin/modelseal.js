#!/usr/bin/env node
import { main } from '../dist/cli/main.js';

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`modelseal: internal error: ${e?.message ?? e}\n`);
    process.exitCode = 70;
  },
);
