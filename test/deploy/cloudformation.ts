import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadSchemas } from '@propulsionworks/cfn-resource-schemas';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/**
 * Test helpers for the packaged stack: package it with `npm run package` (osls, offline), read the template as
 * CloudFormation would deploy it for the given parameters, and validate its resources against the CloudFormation
 * registry's own resource schemas.
 */
export const ROOT = path.resolve(__dirname, '..', '..');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface Resource {
  readonly Type: string;
  readonly Properties: JsonObject;
  readonly Condition?: string;
  readonly DependsOn?: string | string[];
}

export interface Template {
  readonly Conditions?: Record<string, Json>;
  readonly Resources: Record<string, Resource>;
  readonly Outputs?: Record<string, { readonly Condition?: string; readonly Value: Json }>;
}

export interface PackageRun {
  readonly status: number | null;
  readonly output: string;
}

/** `npm run package -- <args>`: osls package with placeholder credentials, nothing reaches AWS. */
export function runPackage(args: readonly string[]): PackageRun {
  const run = spawnSync('npm', ['run', '--silent', 'package', '--', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 180_000,
  });
  return { status: run.status, output: `${run.stdout}\n${run.stderr}` };
}

/** Packages into `dir` and returns the raw template (throws with the output when packaging fails). */
export function packageTemplate(dir: string, params: readonly string[]): Template {
  const run = runPackage(['--package', dir, ...params.map((p) => `--param=${p}`)]);
  if (run.status !== 0) throw new Error(`npm run package failed:\n${run.output}`);
  return JSON.parse(readFileSync(path.join(dir, 'cloudformation-template-update-stack.json'), 'utf8'));
}

const NO_VALUE = Symbol('AWS::NoValue');

function isIntrinsic(value: Json): value is JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return (
    keys.length === 1 &&
    (keys[0] === 'Ref' || keys[0] === 'Condition' || (keys[0]?.startsWith('Fn::') ?? false))
  );
}

/**
 * The template as CloudFormation deploys it with these parameters: conditions evaluated (their operands are
 * literals once the framework resolved `${param:...}`), resources and outputs whose condition is false left out,
 * `Fn::If` replaced by the branch taken, `AWS::NoValue` removed and `Fn::Split` of a literal split. Other intrinsic
 * functions stay as they are.
 */
export function deployedTemplate(template: Template): Template {
  const conditions = new Map<string, boolean>();
  const condition = (name: string): boolean => {
    const known = conditions.get(name);
    if (known !== undefined) return known;
    const definition = template.Conditions?.[name];
    if (definition === undefined) throw new Error(`unknown condition ${name}`);
    const value = evaluate(definition);
    conditions.set(name, value);
    return value;
  };
  const evaluate = (expression: Json): boolean => {
    if (!isIntrinsic(expression)) throw new Error(`not a condition: ${JSON.stringify(expression)}`);
    const [[fn, args]] = Object.entries(expression) as [[string, Json]];
    const list = Array.isArray(args) ? args : [];
    switch (fn) {
      case 'Condition':
        return condition(String(args));
      case 'Fn::Equals': {
        const [a, b] = list.map(resolve);
        if (typeof a !== 'string' || typeof b !== 'string') throw new Error(`Fn::Equals needs literals here`);
        return a === b;
      }
      case 'Fn::Not':
        return !evaluate(list[0] ?? null);
      case 'Fn::And':
        return list.every(evaluate);
      case 'Fn::Or':
        return list.some(evaluate);
      default:
        throw new Error(`cannot evaluate ${fn}`);
    }
  };
  const resolve = (value: Json): Json | typeof NO_VALUE => {
    if (Array.isArray(value)) return value.map(resolve).filter((v): v is Json => v !== NO_VALUE);
    if (typeof value !== 'object' || value === null) return value;
    if (isIntrinsic(value)) {
      if (value.Ref === 'AWS::NoValue') return NO_VALUE;
      const branches = value['Fn::If'];
      if (Array.isArray(branches)) {
        const [name, yes = null, no = null] = branches;
        return resolve(condition(String(name)) ? yes : no);
      }
      const split = value['Fn::Split'];
      if (Array.isArray(split) && typeof split[0] === 'string') {
        const source = resolve(split[1] ?? null);
        if (typeof source === 'string') return source.split(split[0]);
      }
    }
    const out: JsonObject = {};
    for (const [key, inner] of Object.entries(value)) {
      const resolved = resolve(inner);
      if (resolved !== NO_VALUE) out[key] = resolved;
    }
    return out;
  };
  const kept = <T extends { readonly Condition?: string }>(entries: Record<string, T> | undefined) =>
    Object.fromEntries(
      Object.entries(entries ?? {}).filter(
        ([, entry]) => entry.Condition === undefined || condition(entry.Condition),
      ),
    );
  const resources = kept(template.Resources);
  const outputs = kept(template.Outputs);
  return {
    Conditions: template.Conditions ?? {},
    Resources: resolve(resources as unknown as Json) as unknown as Template['Resources'],
    Outputs: resolve(outputs as unknown as Json) as unknown as NonNullable<Template['Outputs']>,
  };
}

export interface SchemaProblem {
  readonly resource: string;
  readonly type: string;
  readonly problem: string;
}

/**
 * Validates every resource's Properties against its type's schema from the CloudFormation registry (the
 * `@propulsionworks/cfn-resource-schemas` package: AWS's published provider schemas for us-east-1, unchanged). A
 * value that is still an intrinsic function (Ref, Fn::GetAtt, Fn::Join...) is resolved by CloudFormation at deploy
 * time, so what the schema says about that one value is not checked; everything around it is. Resource types the
 * registry does not know are problems too.
 */
export async function validateAgainstRegistry(templates: readonly Template[]): Promise<SchemaProblem[]> {
  const types = new Set(templates.flatMap((t) => Object.values(t.Resources).map((r) => r.Type)));
  const validators = await registryValidators(types);
  const problems: SchemaProblem[] = [];
  for (const template of templates) {
    for (const [name, resource] of Object.entries(template.Resources)) {
      const validate = validators.get(resource.Type);
      if (validate === undefined) {
        problems.push({ resource: name, type: resource.Type, problem: 'no schema in the registry' });
        continue;
      }
      const properties = resource.Properties ?? {};
      if (validate(properties)) continue;
      const opaque = intrinsicPaths(properties, '');
      for (const error of validate.errors ?? []) {
        if (isAboutIntrinsic(error, opaque)) continue;
        problems.push({ resource: name, type: resource.Type, problem: describe(error) });
      }
    }
  }
  return problems;
}

async function registryValidators(types: ReadonlySet<string>): Promise<Map<string, ValidateFunction>> {
  const ajv = new Ajv({
    allErrors: true,
    // CloudFormation converts "900" to 900 (and "true" to true) where a property is a number or a boolean.
    coerceTypes: true,
    strict: false,
    validateSchema: false,
    logger: false,
    code: { regExp: registryRegExp },
  });
  addFormats(ajv);
  const validators = new Map<string, ValidateFunction>();
  for await (const schema of loadSchemas()) {
    if (!types.has(schema.typeName)) continue;
    const { $schema: _meta, $id: _id, ...body } = schema as unknown as Record<string, unknown>;
    validators.set(schema.typeName, ajv.compile(body));
  }
  return validators;
}

/**
 * The registry's patterns are written for Java's regular expressions: `\A`, `\Z` and `\z` anchor, and a leading
 * `(?i)` ignores case. Translated to JavaScript; a pattern that still does not compile is not checked rather than
 * checked wrongly.
 */
const registryRegExp = Object.assign(translateRegExp, { code: 'translateRegExp' });

function translateRegExp(pattern: string, flags: string): { test(text: string): boolean } {
  let source = pattern.replace(/\\A/g, '^').replace(/\\[Zz]/g, '$');
  let extra = '';
  if (source.startsWith('(?i)')) {
    source = source.slice(4);
    extra = 'i';
  }
  for (const attempt of [flags + extra, extra]) {
    try {
      return new RegExp(source, attempt);
    } catch {
      // Try without the unicode flag (it refuses escapes Java allows), then give up on this pattern.
    }
  }
  return { test: () => true };
}

/** JSON pointers (ajv's instancePath form) of every intrinsic function in `value`. */
function intrinsicPaths(value: Json, at: string): string[] {
  if (isIntrinsic(value)) return [at];
  if (Array.isArray(value)) return value.flatMap((item, i) => intrinsicPaths(item, `${at}/${i}`));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value as JsonObject).flatMap(([key, inner]) =>
    intrinsicPaths(inner, `${at}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`),
  );
}

/**
 * An error at or inside an intrinsic function, or a combinator (oneOf/anyOf) at a place that contains one: the
 * combinator only failed because a branch could not see the value CloudFormation will put there.
 */
function isAboutIntrinsic(error: ErrorObject, opaque: readonly string[]): boolean {
  const at = error.instancePath;
  if (opaque.some((p) => at === p || at.startsWith(`${p}/`))) return true;
  if (error.keyword === 'oneOf' || error.keyword === 'anyOf') {
    return opaque.some((p) => p.startsWith(`${at}/`));
  }
  return false;
}

function describe(error: ErrorObject): string {
  const where = error.instancePath === '' ? 'Properties' : `Properties${error.instancePath}`;
  return `${where} ${error.message ?? error.keyword} ${JSON.stringify(error.params)}`;
}
