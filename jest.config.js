/** Every suite of the project; `npm test` runs them all. */
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.json', isolatedModules: true }];
const node = { testEnvironment: 'node', transform: { '^.+\\.ts$': tsJest }, moduleFileExtensions: ['ts', 'js', 'json'] };

module.exports = {
  projects: [
    { ...node, displayName: 'unit', rootDir: '.', testMatch: ['<rootDir>/backend/**/*.spec.ts'] },
    {
      displayName: 'frontend',
      rootDir: '.',
      testEnvironment: 'jsdom',
      testMatch: ['<rootDir>/frontend/src/**/*.spec.tsx', '<rootDir>/frontend/src/**/*.spec.ts'],
      transform: { '^.+\\.tsx?$': ['ts-jest', { tsconfig: 'frontend/tsconfig.jest.json', isolatedModules: true }] },
      moduleNameMapper: { '\\.css$': '<rootDir>/frontend/test-support/style-stub.js' },
      setupFilesAfterEach: undefined,
      setupFilesAfterEnv: ['<rootDir>/frontend/test-support/setup.ts'],
    },
    { ...node, displayName: 'e2e', rootDir: '.', testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'] },
    { ...node, displayName: 'integration', rootDir: '.', testMatch: ['<rootDir>/test/integration/**/*.int-spec.ts'] },
    { ...node, displayName: 'browser', rootDir: '.', testMatch: ['<rootDir>/test/browser/**/*.browser-spec.ts'] },
  ],
};
