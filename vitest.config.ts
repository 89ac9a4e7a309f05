import { defineConfig } from 'vitest/config';

const clusterRun = process.env.OBOL_TEST_CLUSTER === '1';

export default defineConfig({
  test: {
    environment: 'node',
    include: clusterRun
      ? ['cluster-agent/test/cluster/**/*.test.ts']
      : ['core/**/*.test.ts', 'edge/**/*.test.ts', 'cluster-agent/**/*.test.ts', 'test/**/*.test.ts', 'bench/**/*.test.ts'],
    exclude: ['**/node_modules/**', ...(clusterRun ? [] : ['cluster-agent/test/cluster/**'])],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 20_000,
  },
});
