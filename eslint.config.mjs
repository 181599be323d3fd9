// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import jest from 'eslint-plugin-jest';

/**
 * What jest/valid-title asks of every it/test title: "then" opens it, or follows the situation after a
 * comma (a bare \bthen\b passed "when Redis is full, paused and then gone, every 503 keeps the document").
 */
const testTitle = [
  '^(?:then\\b|.+, then\\b)',
  'a test title reads "when <situation>, then <outcome>" ("then …" under a "when …" describe)',
];

/** the CDK tests' old style, which would otherwise pass as "THEN it blocks …, then …" */
const capitals = [
  '\\b(?:GIVEN|WHEN|THEN)\\b',
  'a test title says when and then in lower case, not GIVEN / WHEN / THEN',
];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'coverage/', '**/cdk.out/', 'reports/'] },
  eslint.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', '*.mjs', 'scripts/*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-floating-promises': 'error',
      // Express 5 handlers may be async: it forwards their rejections to the error middleware.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      globals: {
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        console: 'readonly',
        process: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Test titles read as a sentence: "when <situation>, then <outcome>", or "then <outcome>" under a
    // describe that says when (docs/development.md). valid-title checks every title written as a string;
    // a template literal with ${…} in it (purchase-invariant-suite's describe) it skips, as it cannot
    // know the text. Tests outside *.test.ts: the fixture a test runs in a jest of its own, and the
    // shared suite that holds most of test/topologies' tests.
    files: ['**/*.test.ts', '**/*.fixture.ts', 'test/support/purchase-invariant-suite.ts'],
    plugins: { jest },
    rules: {
      'jest/valid-title': [
        'error',
        {
          mustMatch: { it: testTitle, test: testTitle },
          mustNotMatch: {
            describe: [
              '^(?:GIVEN|WHEN|THEN|AND)\\b',
              'a describe title is a subject or a "when …" condition, not GIVEN / WHEN / THEN in capitals',
            ],
            it: capitals,
            test: capitals,
          },
        },
      ],
    },
  },
  prettier,
);
