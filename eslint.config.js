// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const LAYERS = ['archive', 'inventory', 'filesystems', 'mailman', 'plan', 'apply'];
const FRONT_ENDS = ['cli', 'wizard'];

function layerRules() {
  return LAYERS.map((layer, index) => {
    const later = [...LAYERS.slice(index + 1), ...FRONT_ENDS];
    return {
      files: [`src/${layer}/**/*.ts`],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            // The planner decides from what the filesystems layer's probe reports, never from
            // its own reads of the disk: one view of what exists, shared with check.
            paths:
              layer === 'plan'
                ? ['fs', 'node:fs', 'fs/promises', 'node:fs/promises'].map((name) => ({
                    name,
                    message: 'plan/ reads the disk only through the filesystems probe.',
                  }))
                : [],
            patterns: [
              {
                group: [...later.map((name) => `../${name}/*`), '../index.js', '../scanArchive.js'],
                message: `${layer}/ is below that layer: it may import only from ${LAYERS.slice(0, index).join(', ') || 'the shared modules'} (DESIGN.md architecture).`,
              },
            ],
          },
        ],
      },
    };
  });
}

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      '.bench-work/**',
      '.test-work/**',
      'samples/.sandbox/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  // Layers (DESIGN.md): data flows one way, archive -> inventory -> filesystems -> mailman ->
  // plan -> apply -> front ends. A layer imports only from the layers before it (and the shared
  // errors, problems, progress and types modules); a violation is a design change, not a lint fix.
  ...layerRules(),
  {
    // The core never prints and never exits (DESIGN.md): only front ends may.
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**', 'src/wizard/**'],
    rules: {
      'no-console': 'error',
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'exit',
          message: 'The core never exits; throw a RestoreplanError.',
        },
      ],
    },
  },
);
