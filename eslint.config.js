// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The boundary between capabilities (src/<capability>/). Each capability may use only the
 * capabilities listed here, below it, and of those only their interface modules: `domain.ts`
 * (pure), `public.ts` (what the capability offers the others) and the few named in
 * INTERFACE_MODULES. No capability imports another's store, routes, pages or forms, nor
 * src/wiring/, src/demo/ or the root files: adapters that need two capabilities live in
 * src/wiring/ and are passed in from src/app.ts and src/cli.ts. Tests may reach across.
 * test/boundaries.test.ts proves the rule bites; test/capability-graph.test.ts that there are no cycles.
 */
export const MAY_USE = {
  audit: [],
  auth: ['audit'],
  places: ['audit', 'auth'],
  ledger: ['audit', 'auth', 'places'],
  families: ['audit', 'auth', 'places'],
  outcomes: ['audit', 'auth', 'places'],
  services: ['audit', 'auth', 'places'],
  spend: ['audit', 'auth', 'places', 'services'],
  cba: ['audit', 'auth', 'places', 'ledger'],
  pb: ['audit', 'auth', 'places', 'ledger', 'families'],
  network: ['audit', 'auth', 'places', 'outcomes'],
};
/** Shared by every capability: the small core and the published reference figures. */
const SHARED = ['core', 'reference'];
export const INTERFACE_MODULES = {
  places: ['scope.ts'], // placeScoped, need, inRequestPlace: every place's routes
  auth: ['plugin.ts'], // the signed-in person
};

/** no-restricted-imports patterns for a file `depth` folders below src/<capability>/. */
function boundaryPatterns(capability, depth) {
  const up = '\\.\\./'.repeat(depth + 1);
  const allowed = [...SHARED, ...MAY_USE[capability]];
  return [
    {
      regex: `^${up}(?!(?:${allowed.join('|')})/)`,
      message: `${capability} may use only ${allowed.join(', ')} (see MAY_USE in eslint.config.js); code that joins two capabilities belongs in src/wiring/.`,
    },
    ...MAY_USE[capability].map((other) => {
      const open = ['domain.ts', 'public.ts', ...(INTERFACE_MODULES[other] ?? [])];
      return {
        regex: `^${up}${other}/(?!(?:${open.map((m) => m.replace('.', '\\.')).join('|')})$)`,
        message: `Use ${other} only through ${open.join(', ')}: another capability's store, routes, pages and forms are its own.`,
      };
    }),
  ];
}

const boundaries = Object.keys(MAY_USE).flatMap((capability) => [
  {
    files: [`src/${capability}/*.ts`],
    ignores: ['**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: boundaryPatterns(capability, 0) }] },
  },
  {
    files: [`src/${capability}/*/**/*.ts`],
    ignores: ['**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: boundaryPatterns(capability, 1) }] },
  },
]);

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', 'bench/results.json', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
      eqeqeq: ['error', 'always'],
    },
  },
  ...boundaries,
  {
    // The core and the reference figures know no capability.
    files: ['src/core/**/*.ts', 'src/reference/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^\\.\\./(?!core/)', message: 'src/core/ and src/reference/ import no capability.' },
          ],
        },
      ],
    },
  },
  {
    // ...except that the database's type is assembled from each capability's table declarations.
    files: ['src/core/schema.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^\\.\\./(?![a-z-]+/tables\\.ts$)',
              message: 'core/schema.ts imports only table declarations.',
            },
          ],
        },
      ],
    },
  },
  {
    // Type-aware rules: a promise nobody awaits loses its error (and, in a test, its assertion).
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's describe() and it() return promises the runner itself awaits.
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
);
