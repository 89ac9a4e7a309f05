import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { registrationJsonSchema } from '../core/render/registration.js';
import { committedSchemaMatches, REGISTRATION_SCHEMA_FILE } from '../scripts/generate-services-schema.js';

/** docs/agent-registration.schema.json against core's zod schema, the way `npm run generate:schema -- --check` checks it. */
describe('docs/agent-registration.schema.json', () => {
  it('matches the zod schema (regenerate with `npm run generate:schema`)', () => {
    expect(committedSchemaMatches(REGISTRATION_SCHEMA_FILE, registrationJsonSchema)).toBe(true);
  });

  it('the drift check fails for a schema file that differs by one byte or is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'obol-registration-schema-'));
    const drifted = join(dir, 'agent-registration.schema.json');
    writeFileSync(drifted, registrationJsonSchema().replace('"endpoint"', '"endpoints"'));
    expect(committedSchemaMatches(drifted, registrationJsonSchema)).toBe(false);
    expect(committedSchemaMatches(join(dir, 'missing.json'), registrationJsonSchema)).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });
});
