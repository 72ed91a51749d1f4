import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';

/**
 * The boundary rule in eslint.config.js bites: a small snippet, linted as if it were a file in a
 * capability folder, is refused when it imports another capability's store, a capability its
 * layer may not use, src/wiring/ or the root; the same snippet through interface modules passes.
 * So `npm run lint` fails on a cross-capability import.
 */
const root = path.resolve(import.meta.dirname, '..');
// The snippets are not files of the TypeScript project, so the type-aware rules (which need one) are off.
const eslint = new ESLint({
  cwd: root,
  overrideConfig: {
    languageOptions: { parserOptions: { projectService: false } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'off',
      '@typescript-eslint/no-misused-promises': 'off',
    },
  },
});

async function boundaryErrors(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, filePath) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('the boundary between capabilities (eslint.config.js)', () => {
  it('refuses a capability importing another capability’s store, routes, pages or forms', async () => {
    for (const module of ['store.ts', 'routes.ts', 'pages.ts', 'setup-forms.ts']) {
      const errors = await boundaryErrors(
        `import { x } from '../ledger/${module}';\nexport const y = x;\n`,
        'src/pb/boundary-fixture.ts',
      );
      assert.equal(errors.length, 1, module);
      assert.match(errors[0]!, /Use ledger only through domain\.ts, public\.ts/);
    }
    const families = await boundaryErrors(
      `import { x } from '../places/store.ts';\nexport const y = x;\n`,
      'src/families/boundary-fixture.ts',
    );
    assert.match(families[0]!, /Use places only through domain\.ts, public\.ts, scope\.ts/);
  });

  it('refuses an import against the layering, into src/wiring/ or from the root, also from a nested folder', async () => {
    const up = await boundaryErrors(
      `import { x } from '../pb/domain.ts';\nexport const y = x;\n`,
      'src/ledger/boundary-fixture.ts',
    );
    assert.match(up[0]!, /ledger may use only core, reference, audit, auth, places/);
    const wiring = await boundaryErrors(
      `import { buildWiring } from '../wiring/index.ts';\nexport const y = buildWiring;\n`,
      'src/cba/boundary-fixture.ts',
    );
    assert.equal(wiring.length, 1);
    const rootFile = await boundaryErrors(
      `import { buildApp } from '../app.ts';\nexport const y = buildApp;\n`,
      'src/places/boundary-fixture.ts',
    );
    assert.equal(rootFile.length, 1);
    const nested = await boundaryErrors(
      `import { x } from '../../families/record.ts';\nexport const y = x;\n`,
      'src/cba/examples/boundary-fixture.ts',
    );
    assert.equal(nested.length, 1);
    const cycleBack = await boundaryErrors(
      `import type { Role } from '../places/domain.ts';\nexport type R = Role;\n`,
      'src/auth/boundary-fixture.ts',
    );
    assert.equal(cycleBack.length, 1, 'auth may not use places, even its domain');
  });

  it('refuses the core importing a capability, except the schema assembling table declarations', async () => {
    assert.equal(
      (
        await boundaryErrors(
          `import { x } from '../ledger/domain.ts';\nexport const y = x;\n`,
          'src/core/boundary-fixture.ts',
        )
      ).length,
      1,
    );
    assert.equal(
      (
        await boundaryErrors(
          `import type { T } from '../ledger/tables.ts';\nexport type U = T;\n`,
          'src/core/schema.ts',
        )
      ).length,
      0,
    );
    assert.equal(
      (
        await boundaryErrors(
          `import { x } from '../ledger/postings.ts';\nexport const y = x;\n`,
          'src/core/schema.ts',
        )
      ).length,
      1,
    );
  });

  it('lets through interface modules, the core, the reference figures, a capability’s own files, and tests', async () => {
    const code = [
      "import { x1 } from '../ledger/public.ts';",
      "import { x2 } from '../ledger/domain.ts';",
      "import { x3 } from '../places/scope.ts';",
      "import { x4 } from '../auth/plugin.ts';",
      "import { x5 } from '../core/db.ts';",
      "import { x6 } from '../reference/figures.ts';",
      "import { x7 } from './store.ts';",
      'export const y = [x1, x2, x3, x4, x5, x6, x7];',
      '',
    ].join('\n');
    assert.deepEqual(await boundaryErrors(code, 'src/pb/boundary-fixture.ts'), []);
    assert.deepEqual(
      await boundaryErrors(
        `import { x } from '../ledger/postings.ts';\nexport const y = x;\n`,
        'src/pb/boundary-fixture.test.ts',
      ),
      [],
    );
    assert.deepEqual(
      await boundaryErrors(
        `import { x } from '../ledger/postings.ts';\nexport const y = x;\n`,
        'src/wiring/boundary-fixture.ts',
      ),
      [],
    );
  });
});
