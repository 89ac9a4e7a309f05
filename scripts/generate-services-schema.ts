import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registrationJsonSchema } from '../core/render/registration.js';
import { servicesJsonSchema } from '../core/render/services-json.js';

/**
 * Writes `docs/services.schema.json` and `docs/agent-registration.schema.json` from their zod
 * schemas (`npm run generate:schema`); with `--check` it only fails when a committed file has
 * drifted. `test/services-schema.test.ts` and `test/registration-schema.test.ts` run the same check.
 */
const DOCS = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs');
export const SERVICES_SCHEMA_FILE = join(DOCS, 'services.schema.json');
export const REGISTRATION_SCHEMA_FILE = join(DOCS, 'agent-registration.schema.json');

const SCHEMAS: readonly { file: string; render: () => string }[] = [
  { file: SERVICES_SCHEMA_FILE, render: servicesJsonSchema },
  { file: REGISTRATION_SCHEMA_FILE, render: registrationJsonSchema },
];

export function committedSchemaMatches(file = SERVICES_SCHEMA_FILE, render: () => string = servicesJsonSchema): boolean {
  try {
    return readFileSync(file, 'utf8') === render();
  } catch {
    return false;
  }
}

const invokedDirectly = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (invokedDirectly) {
  for (const { file, render } of SCHEMAS) {
    if (process.argv.includes('--check')) {
      const ok = committedSchemaMatches(file, render);
      console.log(JSON.stringify({ level: ok ? 'info' : 'error', msg: ok ? 'schema up to date' : 'schema drifted; regenerate it with npm run generate:schema', file }));
      if (!ok) process.exitCode = 1;
    } else {
      writeFileSync(file, render());
      console.log(JSON.stringify({ level: 'info', msg: 'wrote schema', file }));
    }
  }
}
