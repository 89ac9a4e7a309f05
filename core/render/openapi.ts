/**
 * `/openapi.json`: an OpenAPI 3.1 document of the paid routes, each operation carrying its x402
 * payment terms and its 402 answer, so an OpenAPI-aware client can discover and pay them.
 */

export const OPENAPI_PATH = '/openapi.json';
