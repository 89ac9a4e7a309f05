import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

/**
 * The V8 flags the agent is deployed with: `NODE_OPTIONS` of the `agent` container in
 * `deployment.yaml` (the Dockerfile sets the same; `deploy.test.ts` checks). The agent bench reads
 * them from here, so it measures the agent with exactly the deployed flags.
 */

const DIR = dirname(fileURLToPath(import.meta.url));
export const DEPLOYMENT_PATH = join(DIR, 'deployment.yaml');
export const DOCKERFILE_PATH = join(DIR, 'Dockerfile');

interface Container {
  name?: string;
  env?: Array<{ name?: string; value?: string }>;
  resources?: { limits?: { memory?: string } };
}

export function agentContainer(text = readFileSync(DEPLOYMENT_PATH, 'utf8')): Container {
  for (const doc of parseAllDocuments(text)) {
    const value = doc.toJS() as { kind?: string; spec?: { template?: { spec?: { containers?: Container[] } } } } | null;
    if (value?.kind !== 'Deployment') continue;
    const container = value.spec?.template?.spec?.containers?.find((c) => c.name === 'agent');
    if (container) return container;
  }
  throw new Error('deployment.yaml has no Deployment with an "agent" container');
}

/** `NODE_OPTIONS` of the deployed agent container ('' when unset). */
export function deployedNodeOptions(text?: string): string {
  return agentContainer(text).env?.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '';
}

/** `ENV NODE_OPTIONS=...` of the image ('' when unset). */
export function imageNodeOptions(text = readFileSync(DOCKERFILE_PATH, 'utf8')): string {
  const match = /^ENV NODE_OPTIONS=(?:"([^"]*)"|(\S+))$/m.exec(text);
  return match?.[1] ?? match?.[2] ?? '';
}

/** The heap sizes a NODE_OPTIONS string sets, in MiB (undefined when a flag is absent). */
export function heapLimitsMiB(nodeOptions: string): { oldSpace?: number; semiSpace?: number } {
  const flag = (name: string) => {
    const match = new RegExp(`--${name}=(\\d+)`).exec(nodeOptions);
    return match ? Number(match[1]) : undefined;
  };
  const oldSpace = flag('max-old-space-size');
  const semiSpace = flag('max-semi-space-size');
  return { ...(oldSpace !== undefined ? { oldSpace } : {}), ...(semiSpace !== undefined ? { semiSpace } : {}) };
}
