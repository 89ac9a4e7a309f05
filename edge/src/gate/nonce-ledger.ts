import { DurableObject } from 'cloudflare:workers';

// Placeholder until this part lands.
export class NonceLedger extends DurableObject {}
