import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests start real PostgreSQL clusters and servers; 2 cores do not profit from more.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
