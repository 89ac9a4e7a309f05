import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { z } from 'zod';
import { AgentIdentity } from '../../../core/index.js';

/**
 * The agent's ERC-8004 identity (`--identity <file>`, YAML or JSON): name, description, image,
 * registrations, supportedTrust. Validated with core `AgentIdentity`; it travels in the snapshot.
 */

export class IdentityError extends Error {
  readonly reason: 'identity_unreadable' | 'identity_invalid';
  constructor(reason: 'identity_unreadable' | 'identity_invalid', message: string) {
    super(message);
    this.name = 'IdentityError';
    this.reason = reason;
  }
}

/** An identity that names nothing: the edge falls back to the first registration-enabled offer. */
export const EMPTY_IDENTITY: AgentIdentity = { registrations: [] };

/** Validate an already-parsed identity document. */
export function parseIdentity(value: unknown, source = 'identity'): AgentIdentity {
  const parsed = AgentIdentity.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  throw new IdentityError('identity_invalid', `${source} is not a valid agent identity:\n${z.prettifyError(parsed.error)}`);
}

export async function loadIdentity(path: string): Promise<AgentIdentity> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new IdentityError('identity_unreadable', `cannot read identity file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let value: unknown;
  try {
    value = parse(text);
  } catch (error) {
    throw new IdentityError('identity_invalid', `cannot parse identity file ${path}: ${(error as Error).message.split('\n')[0]}`);
  }
  return parseIdentity(value, `identity file ${path}`);
}
