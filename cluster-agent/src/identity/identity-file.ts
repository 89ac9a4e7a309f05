import { access, constants, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Document, isMap, isSeq, parseDocument, YAMLMap } from 'yaml';
import type { AgentIdentity } from '../../../core/index.js';
import { IdentityError, parseIdentity } from '../publish/identity.js';
import { sameAgentRegistry } from './registries.js';

/**
 * The identity file the agent pushes (`obol-edge agent|publish --identity <file>`): `identity
 * register|update` store the chain's `{agentId, agentRegistry}` in it, so the snapshot carries
 * what the chain says and nobody copies ids by hand. A YAML file keeps its comments and order; a
 * `.json` file is rewritten as JSON. The write is atomic (temp file + rename).
 */

export interface Registration {
  readonly agentId: number;
  readonly agentRegistry: string;
}

export interface IdentityFile {
  readonly path: string;
  /** False when the file does not exist yet (store creates it). */
  readonly exists: boolean;
  readonly identity: AgentIdentity;
}

function isJsonPath(path: string): boolean {
  return path.toLowerCase().endsWith('.json');
}

/**
 * Read and validate the file, and check that it (or its directory, for a new file) can be written:
 * called before any transaction, so a bad file fails before anything reaches the chain.
 */
export async function openIdentityFile(path: string): Promise<IdentityFile> {
  let text: string | undefined;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new IdentityError('identity_unreadable', `cannot read identity file ${path}: ${code ?? (error as Error).message}`);
  }
  const target = text === undefined ? dirname(path) : path;
  await access(target, constants.W_OK).catch((error: NodeJS.ErrnoException) => {
    throw new IdentityError('identity_unreadable', `cannot write identity file ${path}: ${error.code ?? error.message}`);
  });
  if (text === undefined) return { path, exists: false, identity: parseIdentity({}) };
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new IdentityError('identity_invalid', `cannot parse identity file ${path}: ${doc.errors[0]?.message.split('\n')[0]}`);
  return { path, exists: true, identity: parseIdentity(doc.toJS(), `identity file ${path}`) };
}

/** The registration the identity holds for `agentRegistry`, if any. */
export function registrationFor(identity: AgentIdentity, agentRegistry: string): Registration | undefined {
  return identity.registrations.find((r) => sameAgentRegistry(r.agentRegistry, agentRegistry));
}

/** Replace the entry for the same registry (its agentId), else append one. */
function upsertInDocument(doc: Document, registration: Registration): void {
  const root = doc.contents;
  if (!isMap(root)) throw new IdentityError('identity_invalid', 'the identity file is not a mapping');
  let list = root.get('registrations');
  if (!isSeq(list)) {
    root.set('registrations', doc.createNode([]));
    list = root.get('registrations');
  }
  if (!isSeq(list)) throw new IdentityError('identity_invalid', 'registrations is not a list');
  const existing = list.items.find((item) => isMap(item) && sameAgentRegistry(String(item.get('agentRegistry')), registration.agentRegistry));
  if (existing instanceof YAMLMap) {
    existing.set('agentId', registration.agentId);
    existing.set('agentRegistry', registration.agentRegistry);
    return;
  }
  list.add(doc.createNode({ agentId: registration.agentId, agentRegistry: registration.agentRegistry }));
}

/**
 * Store `registration` in the file (created if absent). Returns whether the file changed: storing
 * what it already says writes nothing.
 */
export async function storeRegistration(path: string, registration: Registration): Promise<{ changed: boolean }> {
  const current = await openIdentityFile(path);
  const held = registrationFor(current.identity, registration.agentRegistry);
  if (held && held.agentId === registration.agentId && held.agentRegistry === registration.agentRegistry) return { changed: false };
  let text: string;
  if (isJsonPath(path)) {
    const value = current.exists ? (JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>) : {};
    const others = current.identity.registrations.filter((r) => !sameAgentRegistry(r.agentRegistry, registration.agentRegistry));
    value.registrations = [...others, { agentId: registration.agentId, agentRegistry: registration.agentRegistry }];
    text = `${JSON.stringify(value, null, 2)}\n`;
  } else {
    const doc = current.exists ? parseDocument(await readFile(path, 'utf8')) : new Document({ registrations: [] });
    upsertInDocument(doc, registration);
    text = doc.toString({ lineWidth: 0 });
  }
  // Never write a file the agent would refuse.
  parseIdentity(parseDocument(text).toJS(), `the updated identity file ${path}`);
  const mode = current.exists ? (await stat(path)).mode & 0o777 : 0o644;
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, text, { mode });
  await rename(temp, path);
  return { changed: true };
}
