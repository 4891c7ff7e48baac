// ESLint flat config: typescript-eslint's recommended rules over every
// TypeScript source; compiled output and dependencies are not linted.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
      'no-constant-condition': ['error', { checkLoops: false }],
      // House style (../shared/style.md, habit 1): a function past ~80 lines is asking to be split.
      'max-lines-per-function': ['error', { max: 80 }],
    },
  },
  {
    // And a file past ~400 lines.
    files: ['src/**/*.ts', 'workers/**/*.ts'],
    rules: { 'max-lines': ['error', { max: 400 }] },
  },
  {
    files: ['bin/**/*.js', 'eslint.config.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
