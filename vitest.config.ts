import { defineConfig } from 'vitest/config';

/**
 * Two projects. `unit`: everything that needs no Kubernetes. `cluster`: the agent and the shipped
 * manifests against a real control plane that its global setup starts (and builds, the first
 * time); its setup runs only when a cluster test file is in the run.
 */
const CLUSTER_TESTS = ['cluster-agent/test/cluster/**/*.test.ts', 'test/kube/**/*.test.ts'];

export default defineConfig({
  test: {
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 20_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['core/**/*.test.ts', 'edge/**/*.test.ts', 'cluster-agent/**/*.test.ts', 'test/**/*.test.ts', 'bench/**/*.test.ts'],
          exclude: ['**/node_modules/**', ...CLUSTER_TESTS],
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'cluster',
          include: CLUSTER_TESTS,
          globalSetup: ['test/support/global-setup.ts', 'test/kube/global-setup.ts'],
          // the first build of the control plane can take many minutes on two cores
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
