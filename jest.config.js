/** Every suite of the project; `npm test` runs them all. */
// isolatedModules in tsconfig.jest.json: ts-jest transpiles file by file (fast); `npm run typecheck` checks types.
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.jest.json' }];
const node = { testEnvironment: 'node', setupFiles: ['reflect-metadata'], transform: { '^.+\\.ts$': tsJest }, moduleFileExtensions: ['ts', 'js', 'json'] };

module.exports = {
  // test-artifacts/reliability/RELIABILITY.md is written from each run that includes the reliability project;
  // the tracked test/RELIABILITY.md only by `npm run test:reliability-report`.
  reporters: ['default', '<rootDir>/test/reliability/reliability-reporter.js'],
  projects: [
    { ...node, displayName: 'unit', rootDir: '.', testMatch: ['<rootDir>/backend/**/*.spec.ts'], setupFiles: ['reflect-metadata', '<rootDir>/test/support/quiet-nest-logger.ts'] },
    {
      displayName: 'frontend',
      rootDir: '.',
      testEnvironment: 'jsdom',
      testMatch: ['<rootDir>/frontend/src/**/*.spec.tsx', '<rootDir>/frontend/src/**/*.spec.ts'],
      transform: { '^.+\\.tsx?$': ['ts-jest', { tsconfig: 'frontend/tsconfig.jest.json' }] },
      moduleNameMapper: { '\\.css$': '<rootDir>/frontend/test-support/style-stub.js' },
      setupFilesAfterEnv: ['<rootDir>/frontend/test-support/setup.ts'],
    },
    { ...node, displayName: 'e2e', rootDir: '.', testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'] },
    { ...node, displayName: 'integration', rootDir: '.', testMatch: ['<rootDir>/test/integration/**/*.int-spec.ts'] },
    { ...node, displayName: 'browser', rootDir: '.', testMatch: ['<rootDir>/test/browser/**/*.browser-spec.ts'] },
    // The phone's other engines: WebKitGTK over WebDriver under Xvfb, Firefox ESR over WebDriver BiDi (Debian's packages).
    { ...node, displayName: 'browser-engines', rootDir: '.', testMatch: ['<rootDir>/test/browser-engines/**/*.engine-spec.ts'] },
    // Faults with real parts: built servers killed, tiny file systems in private mount namespaces, strace.
    { ...node, displayName: 'reliability', rootDir: '.', testMatch: ['<rootDir>/test/reliability/**/*.rel-spec.ts'] },
    // The Pi: the bundle installed in a root sandbox, polkit, systemd-analyze, the screen scripts, trust in netns.
    { ...node, displayName: 'kiosk', rootDir: '.', testMatch: ['<rootDir>/test/kiosk/**/*.kiosk-spec.ts'] },
  ],
};
