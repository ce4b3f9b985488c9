// The published package is the product only: what `npm pack` would ship holds no test stack, tools,
// tests or benchmarks, no TypeScript source, and no module that needs a devDependency to load.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repository } from '../helpers/cli.js';

interface PackageJson {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const manifest = JSON.parse(readFileSync(join(repository, 'package.json'), 'utf8')) as PackageJson;

/** The paths `npm pack` would put in the tarball (scripts ignored: `prepare` would rebuild dist/ under other tests). */
const packedPaths = (): string[] => {
  const json = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: repository, encoding: 'utf8' });
  const [pack] = JSON.parse(json) as { files: { path: string }[] }[];
  return pack!.files.map((file) => file.path).sort();
};

/** Every module specifier a compiled file names: static imports and re-exports, side-effect and dynamic imports. */
const importSpecifiers = (text: string): string[] => {
  const patterns = [
    /(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s*['"]([^'"]+)['"]/g,
    /(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  return patterns.flatMap((pattern) => [...text.matchAll(pattern)].map((match) => match[1]!));
};

/** The npm package a bare specifier resolves to (`@scope/name/sub` → `@scope/name`), or undefined for relative and built-in ones. */
const packageOf = (specifier: string): string | undefined => {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) return undefined;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  return builtinModules.includes(name) ? undefined : name;
};

/** A file of a bundled dependency (third-party code, its own imports resolved among the bundled ones). */
const isBundled = (path: string) => path.startsWith('node_modules/');

describe('the published package', () => {
  let paths: string[];
  beforeAll(() => {
    // `npm test` builds first; without dist/ the list would be missing the product itself.
    expect(existsSync(join(repository, 'dist/cli/index.js')), 'run `npm run build` first').toBe(true);
    paths = packedPaths();
  }, 60_000);

  it('holds no test stack, tools, tests or benchmarks', () => {
    const outside = paths.filter(
      (path) => !isBundled(path) && path.split('/').some((part) => ['stack', 'tools', 'test', 'bench'].includes(part)),
    );
    expect(outside).toEqual([]);
  });

  it('holds no TypeScript source', () => {
    expect(paths.filter((path) => !isBundled(path) && /\.[cm]?ts$/.test(path))).toEqual([]);
  });

  it('bundles its runtime dependencies (an install needs no registry) and no devDependency', () => {
    const bundled = new Set(paths.filter(isBundled).map((path) => packageOf(path.slice('node_modules/'.length))!));
    expect(Object.keys(manifest.dependencies ?? {}).filter((name) => !bundled.has(name))).toEqual([]);
    expect(Object.keys(manifest.devDependencies ?? {}).filter((name) => bundled.has(name))).toEqual([]);
  });

  it('loads with its dependencies only: no shipped module imports a devDependency', () => {
    const dependencies = new Set(Object.keys(manifest.dependencies ?? {}));
    const devDependencies = new Set(Object.keys(manifest.devDependencies ?? {}));
    const devImports: string[] = [];
    const undeclared: string[] = [];
    for (const path of paths.filter((path) => !isBundled(path) && /\.[cm]?js$/.test(path))) {
      for (const specifier of importSpecifiers(readFileSync(join(repository, path), 'utf8'))) {
        const name = packageOf(specifier);
        if (name === undefined || dependencies.has(name)) continue;
        (devDependencies.has(name) ? devImports : undeclared).push(`${path}: ${specifier}`);
      }
    }
    expect(devImports).toEqual([]);
    expect(undeclared).toEqual([]);
  });
});
