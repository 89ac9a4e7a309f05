import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { attachControlPlane, type ControlPlane } from './control-plane.js';

/** The run's control plane (see global-setup.ts), or why there is none. */
export function controlPlane(): { plane: ControlPlane; skip: undefined } | { plane: undefined; skip: string } {
  const provided = inject('controlPlane');
  return 'info' in provided ? { plane: attachControlPlane(provided.info), skip: undefined } : { plane: undefined, skip: provided.unavailable };
}

/** A fresh namespace name, so test files sharing the cluster never see each other's objects. */
export function testNamespace(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
