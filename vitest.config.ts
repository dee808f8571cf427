import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Build dist/ once per run so the integration tests spawn fresh code.
    globalSetup: ['test/helpers/global-setup.ts'],
    // Integration tests start real redis-server and switch processes; give them room
    // but keep a hard ceiling so a hang fails instead of stalling CI.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: more parallel files than that just makes timing-sensitive
    // protocol tests (heartbeats, timeouts) flaky.
    maxWorkers: 2,
  },
});
