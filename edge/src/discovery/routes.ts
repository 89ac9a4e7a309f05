import { Hono } from 'hono';
import type { AppEnv } from '../app.js';

// Placeholder until this part lands: fail closed.
export const discovery = new Hono<AppEnv>();
discovery.all('*', (c) => c.json({ error: 'not_implemented' }, 503));
