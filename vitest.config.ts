import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Integration tests start real daemons in network namespaces: give them room.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: files run two at a time; each file owns its namespaces, addresses and ports.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
