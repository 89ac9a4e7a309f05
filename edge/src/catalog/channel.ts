import { Hono } from 'hono';
import type { AppEnv } from '../app.js';

// Placeholder until this part lands: fail closed.
export const catalogChannel = new Hono<AppEnv>();
catalogChannel.all('*', (c) => c.json({ error: 'not_implemented' }, 503));
