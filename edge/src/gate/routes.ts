import { Hono } from 'hono';
import type { AppEnv } from '../app.js';

// Placeholder until this part lands: fail closed.
export const gate = new Hono<AppEnv>();
gate.all('*', (c) => c.json({ error: 'not_implemented' }, 503));
