import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { servicesJsonSchema } from '../core/render/services-json.js';
import { committedSchemaMatches } from '../scripts/generate-services-schema.js';

/** The JSON Schema committed in docs/ against core's zod schema, the way `npm run generate:schema -- --check` checks it. */
describe('docs/services.schema.json', () => {
  it('matches the zod schema (regenerate with `npm run generate:schema`)', () => {
    expect(committedSchemaMatches()).toBe(true);
  });

  it('the drift check fails for a schema file that differs by one byte or is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'obol-schema-'));
    const drifted = join(dir, 'services.schema.json');
    writeFileSync(drifted, servicesJsonSchema().replace('"1"', '"2"'));
    expect(committedSchemaMatches(drifted)).toBe(false);
    expect(committedSchemaMatches(join(dir, 'missing.json'))).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });
});
