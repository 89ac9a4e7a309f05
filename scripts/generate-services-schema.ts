import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { servicesJsonSchema } from '../core/render/services-json.js';

/**
 * Writes `docs/services.schema.json` from the zod schema (`npm run generate:schema`); with
 * `--check` it only fails when the committed file has drifted. `test/services-schema.test.ts` runs
 * the same check.
 */
export const SERVICES_SCHEMA_FILE = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'services.schema.json');

export function committedSchemaMatches(file = SERVICES_SCHEMA_FILE): boolean {
  try {
    return readFileSync(file, 'utf8') === servicesJsonSchema();
  } catch {
    return false;
  }
}

const invokedDirectly = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (invokedDirectly) {
  if (process.argv.includes('--check')) {
    const ok = committedSchemaMatches();
    console.log(JSON.stringify({ level: ok ? 'info' : 'error', msg: ok ? 'services schema up to date' : 'docs/services.schema.json drifted; regenerate it', file: SERVICES_SCHEMA_FILE }));
    process.exitCode = ok ? 0 : 1;
  } else {
    writeFileSync(SERVICES_SCHEMA_FILE, servicesJsonSchema());
    console.log(JSON.stringify({ level: 'info', msg: 'wrote services schema', file: SERVICES_SCHEMA_FILE }));
  }
}
