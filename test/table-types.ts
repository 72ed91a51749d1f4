/**
 * The Kysely table interfaces (src/core/schema.ts's DB) read with the TypeScript compiler: for
 * each table its columns as a query returns them (`Selectable`), whether they may be null, their
 * broad type, and whether an insert may leave them out (`Insertable`). table-types.test.ts holds
 * this against the migrated database.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export type BroadType = 'number' | 'string' | 'boolean' | 'date' | 'bytes' | 'array' | 'json';

export interface DeclaredColumn {
  type: BroadType | `other: ${string}`;
  nullable: boolean;
  /** An insert may leave it out (Generated, or nullable). */
  optional: boolean;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function declaredTables(): Map<string, Map<string, DeclaredColumn>> {
  const probe = path.join(ROOT, 'src/core/__table_types_probe__.ts');
  const probeText = `import type { Insertable, Selectable } from 'kysely';
import type { DB } from './schema.ts';
export type Selected = { [T in keyof DB]-?: Selectable<DB[T]> };
export type Inserted = { [T in keyof DB]-?: Insertable<DB[T]> };
`;
  const configFile = ts.readConfigFile(path.join(ROOT, 'tsconfig.json'), ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(configFile.config, ts.sys, ROOT);
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (file) => (path.resolve(file) === probe ? probeText : readFile(file));
  host.fileExists = (file) => path.resolve(file) === probe || ts.sys.fileExists(file);
  host.getSourceFile = (file, language, onError, create) =>
    path.resolve(file) === probe
      ? ts.createSourceFile(file, probeText, language, true)
      : getSourceFile(file, language, onError, create);
  const program = ts.createProgram([probe], { ...options, noEmit: true }, host);
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(probe)!;
  const exported = checker.getExportsOfModule(checker.getSymbolAtLocation(source)!);
  const typeOf = (name: string) => checker.getDeclaredTypeOfSymbol(exported.find((s) => s.name === name)!);
  const selected = typeOf('Selected');
  const inserted = typeOf('Inserted');

  const tables = new Map<string, Map<string, DeclaredColumn>>();
  for (const table of checker.getPropertiesOfType(selected)) {
    const row = checker.getTypeOfSymbol(table);
    const insertRow = checker.getTypeOfSymbol(checker.getPropertyOfType(inserted, table.name)!);
    const columns = new Map<string, DeclaredColumn>();
    for (const column of checker.getPropertiesOfType(row)) {
      const type = checker.getTypeOfSymbol(column);
      const parts = type.isUnion() ? type.types : [type];
      const nullable = parts.some((t) => t.flags & ts.TypeFlags.Null);
      const kinds = new Set(
        parts
          .filter((t) => !(t.flags & (ts.TypeFlags.Null | ts.TypeFlags.Undefined)))
          .map((t) => broad(checker, t)),
      );
      const insertColumn = checker.getPropertyOfType(insertRow, column.name);
      columns.set(column.name, {
        type: kinds.size === 1 ? [...kinds][0]! : `other: ${checker.typeToString(type)}`,
        nullable,
        optional: insertColumn === undefined || (insertColumn.flags & ts.SymbolFlags.Optional) !== 0,
      });
    }
    tables.set(table.name, columns);
  }
  return tables;
}

function broad(checker: ts.TypeChecker, type: ts.Type): DeclaredColumn['type'] {
  if (type.flags & ts.TypeFlags.NumberLike) return 'number';
  if (type.flags & ts.TypeFlags.StringLike) return 'string';
  if (type.flags & ts.TypeFlags.BooleanLike) return 'boolean';
  if (checker.isArrayType(type)) return 'array';
  const name = type.getSymbol()?.name;
  if (name === 'Date') return 'date';
  if (name === 'Uint8Array' || name === 'Buffer') return 'bytes';
  if (type.flags & (ts.TypeFlags.Object | ts.TypeFlags.NonPrimitive)) return 'json';
  return `other: ${checker.typeToString(type)}`;
}
