import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';

/**
 * Packages a function needs at run time that cannot be bundled (a native addon, font files), written into
 * `dist/<function>/node_modules/` so that Node resolves them from the function's own files exactly as it does from
 * the repository's node_modules locally.
 *
 * A native addon is built per platform. Lambda runs linux arm64 (glibc), while `npm ci` on a developer's or CI's x64
 * machine installs only that machine's build. For `target: 'lambda'` the arm64 package is therefore taken from the
 * registry: the exact version package-lock.json records, as a tarball (`npm pack`) cached under
 * node_modules/.cache/, unpacked only after its sha512 matched the lock's `integrity`. For `target: 'host'` (local
 * runs and benchmarks of a built bundle) the installed build for this machine is copied instead.
 */
export interface RuntimePackage {
  /** npm package name. */
  readonly name: string;
  /** Files inside the package to ship (its package.json always comes along). */
  readonly files: readonly string[];
}

/** A package's per-platform native builds (its optional dependencies); the build's `.node` and package.json ship. */
export interface NativeBuild {
  /** The package whose platform builds these are, e.g. `@resvg/resvg-js`. */
  readonly of: string;
  /** The build's package for Lambda's platform (linux arm64, glibc). */
  readonly lambda: string;
}

export type RuntimeTarget = 'lambda' | 'host';

const ROOT = path.resolve(__dirname, '..');
export const PACKAGE_CACHE = path.join(ROOT, 'node_modules', '.cache', 'lambda-packages');

/** What one copied file is, for listings and tests. */
export interface RuntimeFile {
  /** Absolute path of the copy. */
  readonly file: string;
  readonly bytes: number;
}

/** Copy `packages` and the native `builds` for `target` into `<functionDir>/node_modules/`. */
export async function writeRuntimePackages(
  functionDir: string,
  packages: readonly RuntimePackage[],
  builds: readonly NativeBuild[],
  target: RuntimeTarget,
): Promise<RuntimeFile[]> {
  const written: RuntimeFile[] = [];
  const write = async (name: string, file: string, bytes: Buffer) => {
    const destination = path.join(functionDir, 'node_modules', name, file);
    await mkdir(path.dirname(destination), { recursive: true });
    await writeFile(destination, bytes);
    written.push({ file: destination, bytes: bytes.length });
  };
  for (const pkg of packages) {
    const dir = installedPackageDir(pkg.name);
    for (const file of ['package.json', ...pkg.files.filter((f) => f !== 'package.json')]) {
      await write(pkg.name, file, await readFile(path.join(dir, file)));
    }
  }
  for (const build of builds) {
    const name = target === 'lambda' ? build.lambda : await installedBuild(build.of);
    const files = target === 'lambda' ? await lockedTarball(name) : await readInstalled(name);
    const shipped = [...files].filter(([file]) => file === 'package.json' || file.endsWith('.node'));
    if (!shipped.some(([file]) => file.endsWith('.node'))) throw new Error(`${name} has no .node file`);
    for (const [file, bytes] of shipped) await write(name, file, bytes);
  }
  return written;
}

function installedPackageDir(name: string): string {
  return path.dirname(require.resolve(`${name}/package.json`, { paths: [ROOT] }));
}

/** The platform build of `of` that npm installed for this machine (exactly one is expected). */
async function installedBuild(of: string): Promise<string> {
  const scope = path.dirname(installedPackageDir(of));
  const base = path.basename(of);
  const found = (await readdir(scope)).filter((entry) => entry.startsWith(`${base}-`));
  const builds = await Promise.all(
    found.map(async (entry) => ({
      entry,
      native: (await readdir(path.join(scope, entry))).some((f) => f.endsWith('.node')),
    })),
  );
  const native = builds.filter((b) => b.native).map((b) => b.entry);
  if (native.length !== 1) {
    throw new Error(`expected one installed native build of ${of}, found ${native.length}: run npm ci`);
  }
  const scopeName = of.startsWith('@') ? `${of.split('/')[0]}/` : '';
  return `${scopeName}${native[0]}`;
}

async function readInstalled(name: string): Promise<Map<string, Buffer>> {
  const dir = installedPackageDir(name);
  const files = new Map<string, Buffer>();
  for (const entry of await readdir(dir)) files.set(entry, await readFile(path.join(dir, entry)));
  return files;
}

interface LockEntry {
  readonly version: string;
  readonly integrity: string;
}

/** The version and integrity package-lock.json records for `name` (installed or not on this platform). */
export async function lockedEntry(name: string): Promise<LockEntry> {
  const lock = JSON.parse(await readFile(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages?: Record<string, { version?: string; integrity?: string }>;
  };
  const entry = lock.packages?.[`node_modules/${name}`];
  if (entry?.version === undefined || entry.integrity === undefined) {
    throw new Error(`package-lock.json records no version and integrity for ${name}: run npm install`);
  }
  return { version: entry.version, integrity: entry.integrity };
}

/** Whether `bytes` match one of the sha512 hashes of an npm `integrity` string. */
export function matchesIntegrity(bytes: Buffer, integrity: string): boolean {
  const actual = createHash('sha512').update(bytes).digest('base64');
  return integrity
    .split(/\s+/)
    .filter((hash) => hash.startsWith('sha512-'))
    .some((hash) => hash.slice('sha512-'.length).split('?')[0] === actual);
}

/**
 * The files of `name` at its locked version, from the cached tarball or, when there is none (or it does not match),
 * from the registry through `npm pack`. Throws when the tarball's sha512 differs from package-lock.json's integrity.
 */
export async function lockedTarball(name: string): Promise<Map<string, Buffer>> {
  const { version, integrity } = await lockedEntry(name);
  const cached = path.join(PACKAGE_CACHE, `${name.replace('/', '+')}-${version}.tgz`);
  if (!existsSync(cached) || !matchesIntegrity(await readFile(cached), integrity)) {
    await packFromRegistry(`${name}@${version}`, cached);
  }
  const bytes = await readFile(cached);
  if (!matchesIntegrity(bytes, integrity)) {
    throw new Error(`${name}@${version} from the registry does not match the integrity in package-lock.json`);
  }
  return untar(gunzipSync(bytes));
}

const run = promisify(execFile);

async function packFromRegistry(spec: string, destination: string): Promise<void> {
  await mkdir(path.dirname(destination), { recursive: true });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lambda-package-'));
  try {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    // --prefer-offline: npm's own cache answers when it holds the tarball (e.g. after `npm ci` emptied node_modules).
    const args = ['pack', spec, '--json', '--ignore-scripts', '--prefer-offline', '--pack-destination', dir];
    const { stdout } = await run(npm, args, { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 }).catch(
      (error: unknown) => {
        const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
        throw new Error(`could not fetch ${spec} from the npm registry for the Lambda bundle: ${detail}`, {
          cause: error,
        });
      },
    );
    const [packed] = JSON.parse(stdout) as Array<{ filename: string }>;
    if (packed === undefined) throw new Error(`npm pack ${spec} produced nothing`);
    // Written next to its final name, then renamed: a concurrent build never reads half a tarball.
    const partial = `${destination}.${process.pid}.partial`;
    await copyFile(path.join(dir, path.basename(packed.filename)), partial);
    await rename(partial, destination);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Regular files of a tar archive (ustar, with pax `path` records), keyed by their path inside npm's `package/`
 * folder. Enough for npm tarballs; links and other entry types are skipped.
 */
export function untar(archive: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  let offset = 0;
  let paxPath: string | undefined;
  const field = (start: number, length: number) =>
    archive
      .subarray(offset + start, offset + start + length)
      .toString('utf8')
      .replace(/\0.*$/s, '');
  while (offset + 512 <= archive.length) {
    const name = field(0, 100);
    if (name === '') break;
    const size = Number.parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1) || '0';
    const prefix = field(345, 155);
    const body = archive.subarray(offset + 512, offset + 512 + size);
    if (type === 'x') {
      paxPath = /\d+ path=([^\n]*)\n/.exec(body.toString('utf8'))?.[1];
    } else {
      const full = paxPath ?? (prefix === '' ? name : `${prefix}/${name}`);
      paxPath = undefined;
      if (type === '0') files.set(full.replace(/^package\//, ''), Buffer.from(body));
    }
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}
