import type { Config } from 'jest';

// Tests start their own redis-server processes and app fleets, so they run a few at a time and get
// generous timeouts; nothing in them asserts wall-clock speed.
const config: Config = {
  preset: 'ts-jest',
  // node's, and every process a test file started dies with the file: test/support/test-environment.ts
  testEnvironment: '<rootDir>/test/support/test-environment.ts',
  roots: ['<rootDir>/test', '<rootDir>/attack', '<rootDir>/infra-cdk'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/cdk.out/'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60_000,
  maxWorkers: 2,
  transform: { '^.+\\.ts$': 'ts-jest' },
};

export default config;
