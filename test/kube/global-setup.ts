import type { TestProject } from 'vitest/node';
import { GoMissingError } from './binaries.js';
import { startControlPlane, type ControlPlaneInfo } from './control-plane.js';

/**
 * The cluster project's global setup: one real control plane for the whole run (tests isolate
 * themselves by namespace), built first if the pinned binaries are not cached yet. Without Go the
 * cluster tests skip, saying so; any other failure fails the run.
 */

declare module 'vitest' {
  export interface ProvidedContext {
    controlPlane: { readonly info: ControlPlaneInfo } | { readonly unavailable: string };
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  try {
    const plane = await startControlPlane({ onProgress: (line) => console.log(`[control plane] ${line}`) });
    project.provide('controlPlane', { info: plane.info });
    return () => plane.stop();
  } catch (error) {
    if (!(error instanceof GoMissingError)) throw error;
    console.log(`[control plane] real-cluster tests skipped: ${error.message}`);
    project.provide('controlPlane', { unavailable: `skipped: ${error.message}` });
    return undefined;
  }
}
