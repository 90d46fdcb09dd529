import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The product (`lib/`, `functions/`) never imports from `infra/` (the deployment and the local stand-ins) or `test/`:
 * what the functions ship is the product alone, and the stand-ins may change without touching it.
 */
const ROOT = path.resolve(__dirname, '../..');
const PRODUCT_DIRS = ['lib', 'functions'];
const FORBIDDEN = ['infra', 'test'];

/** Module specifiers of every static import and re-export, dynamic `import()` and `require()` in `source`. */
function importedSpecifiers(source: string): string[] {
  const patterns = [
    /^\s*(?:import|export)\s[^'";]*?\sfrom\s*['"]([^'"]+)['"]/gm,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  return patterns.flatMap((pattern) => [...source.matchAll(pattern)].map((match) => match[1] as string));
}

function typeScriptFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.relative(ROOT, path.join(entry.parentPath, entry.name)));
}

/** Each relative import of the product files, as the repository path it resolves to. */
function productImports(): { file: string; target: string }[] {
  return PRODUCT_DIRS.flatMap(typeScriptFiles).flatMap((file) =>
    importedSpecifiers(readFileSync(path.join(ROOT, file), 'utf8'))
      .filter((specifier) => specifier.startsWith('.'))
      .map((specifier) => ({
        file,
        target: path
          .relative(ROOT, path.resolve(ROOT, path.dirname(file), specifier))
          .split(path.sep)
          .join('/'),
      })),
  );
}

describe('import boundaries', () => {
  it('reads every form of import the product uses', () => {
    const source = [
      "import { a } from '../../infra/x';",
      "import type { B } from './b';",
      'import {\n  c,\n  d,\n} from "../test/c";',
      "export { e } from './e';",
      "import './side-effect';",
      "const { f } = await import('../lib/f');",
      "const g = require('./g.cjs');",
    ].join('\n');

    expect(importedSpecifiers(source).sort()).toEqual(
      ['../../infra/x', './b', '../test/c', './e', './side-effect', '../lib/f', './g.cjs'].sort(),
    );
  });

  it('finds the imports of the handlers, so the check below has something to check', () => {
    const imports = productImports();

    expect(imports).toContainEqual({ file: 'functions/poll-invoices.ts', target: 'lib/poll/run-poll' });
    expect(imports).toContainEqual({ file: 'functions/slack-command.ts', target: 'lib/atlas/client' });
  });

  it('has no file under lib/ or functions/ importing from infra/ or test/', () => {
    const crossing = productImports().filter(({ target }) =>
      FORBIDDEN.some((dir) => target === dir || target.startsWith(`${dir}/`)),
    );

    expect(crossing).toEqual([]);
  });
});
