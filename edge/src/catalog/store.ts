import { DurableObject } from 'cloudflare:workers';

// Placeholder until this part lands.
export class CatalogStore extends DurableObject {}
