import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { ROOT } from '../test/support/edge-bundle.js';

/**
 * `Env` is generated (`npm run types`), committed, and must not drift from wrangler.toml and
 * .dev.vars.example. The check regenerates it beside the committed file (its import paths are
 * relative to where it is written; a dot-file is invisible to tsc) with the script's own flags.
 * Offline: `wrangler types` without runtime types reads only local files.
 */
const COMMITTED = 'edge/worker-configuration.d.ts';
const run = promisify(execFile);

function typesScript(): { out: string; flags: string[] } {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const [command, subcommand, out = '', ...flags] = (pkg.scripts.types ?? '').split(' ');
  expect(`${command} ${subcommand}`, 'npm run types').toBe('wrangler types');
  return { out, flags };
}

it('edge/worker-configuration.d.ts is what `npm run types` generates from wrangler.toml now', async () => {
  const { out, flags } = typesScript();
  expect(out).toBe(COMMITTED);
  const fresh = `edge/.worker-configuration.check-${process.pid}.d.ts`;
  try {
    await run(join(ROOT, 'node_modules', '.bin', 'wrangler'), ['types', fresh, ...flags], {
      cwd: ROOT,
      timeout: 60_000,
      // No telemetry, no update check; only the env file the script names, never this process's environment.
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', WRANGLER_HIDE_BANNER: 'true', CLOUDFLARE_INCLUDE_PROCESS_ENV: 'false' },
    });
    const regenerated = readFileSync(join(ROOT, fresh), 'utf8').replace(`wrangler types ${fresh} `, `wrangler types ${COMMITTED} `);
    expect(readFileSync(join(ROOT, COMMITTED), 'utf8'), 'stale: run `npm run types` and commit the result').toBe(regenerated);
  } finally {
    rmSync(join(ROOT, fresh), { force: true });
  }
}, 60_000);
