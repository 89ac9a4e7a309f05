/**
 * Where the edge serves each public discovery document (SPEC §4), in one place so the documents
 * that link each other (skill.md, the page, the registration file) cannot drift apart.
 */

export const CATALOG_PAGE_PATH = '/';
export const SKILL_PATH = '/skill.md';
export const SERVICES_PATH = '/api/services.json';
export const SERVICES_SCHEMA_PATH = '/api/services.schema.json';
export const REGISTRATION_PATH = '/.well-known/agent-registration.json';
export const REGISTRATION_SCHEMA_PATH = '/.well-known/agent-registration.schema.json';
export const OPENAPI_PATH = '/openapi.json';
