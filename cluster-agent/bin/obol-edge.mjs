#!/usr/bin/env node
// The `obol-edge` command: runs the TypeScript CLI through tsx, so it works from a fresh clone.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../src/cli/main.ts');
await runCli(process.argv.slice(2));
