// Lint rules: typescript-eslint's recommended set, plus the workflow sandbox's import bans.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '.venv/', '.local-stack/', 'client/bin/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code is replayed: it must not reach Node built-ins or I/O libraries. (Date is safe: the sandbox pins it to workflow time.)
    files: ['workflows/**/*.ts', 'contract/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'fs', 'http', 'https', 'crypto', 'os', 'path', 'child_process'],
              message: 'No Node built-ins in workflow code.',
            },
            {
              group: [
                '@aws-sdk/*',
                'undici',
                '@temporalio/activity',
                '@temporalio/client',
                '@temporalio/worker',
              ],
              message: 'No I/O libraries in workflow code.',
            },
          ],
        },
      ],
    },
  },
);
