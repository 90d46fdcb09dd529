import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import spec from '../fixtures/atlas-invoices-openapi.json';

/**
 * JSON Schema validators built from the official OpenAPI subset (test/fixtures). OpenAPI 3.0 schemas are converted:
 * `nullable` becomes a union with null, annotations (`example`, `externalDocs`, `readOnly`, `x-*`) are dropped, the
 * numeric formats get validators, and `$ref`s are resolved inside the fixture. In strict mode every object schema
 * also forbids properties the spec does not declare, so a typo in the sandbox cannot pass unnoticed.
 */
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const DROPPED = new Set([
  'example',
  'examples',
  'externalDocs',
  'readOnly',
  'writeOnly',
  'description',
  'title',
  'discriminator',
]);

function convert(node: Json, strict: boolean): Json {
  if (Array.isArray(node)) return node.map((item) => convert(item, strict));
  if (node === null || typeof node !== 'object') return node;
  const out: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(node)) {
    if (DROPPED.has(key) || key.startsWith('x-') || key === 'nullable') continue;
    if (key === '$ref' && typeof value === 'string') {
      out.$ref = value.replace('#/components/schemas/', '#/definitions/');
      continue;
    }
    if (key === 'properties' && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      out.properties = Object.fromEntries(
        Object.entries(value).map(([name, schema]) => [name, convert(schema, strict)]),
      );
      continue;
    }
    out[key] = convert(value, strict);
  }
  if (node.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
  }
  if (
    strict &&
    out.type === 'object' &&
    out.properties !== undefined &&
    out.additionalProperties === undefined
  ) {
    out.additionalProperties = false;
  }
  return out;
}

export interface OpenApiValidators {
  /** The validator of a component schema, e.g. `BillingInvoice`. */
  schema(name: string): ValidateFunction;
  /**
   * The validator the spec declares for `GET template` answering `status` with `contentType`, or undefined when the
   * spec declares no such response.
   */
  response(template: string, status: number, contentType: string): ValidateFunction | undefined;
  /** The media types the spec declares for a response. */
  mediaTypes(template: string, status: number): string[];
}

export function createOpenApiValidators(options: { strict: boolean }): OpenApiValidators {
  const ajv = new Ajv({ allErrors: true, strict: true });
  addFormats(ajv);
  ajv.addFormat('int32', {
    type: 'number',
    validate: (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** 31,
  });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  ajv.addFormat('float', { type: 'number', validate: () => true });
  ajv.addFormat('double', { type: 'number', validate: () => true });
  const document = spec as unknown as {
    paths: Record<string, Record<string, { responses: Record<string, Json> }>>;
    components: { schemas: Record<string, Json>; responses: Record<string, Json> };
  };
  const definitions = Object.fromEntries(
    Object.entries(document.components.schemas).map(([name, schema]) => [
      name,
      convert(schema, options.strict),
    ]),
  );
  ajv.addSchema({ $id: 'atlas', definitions });

  const schema = (name: string): ValidateFunction => {
    const validate = ajv.getSchema(`atlas#/definitions/${name}`);
    if (validate === undefined) throw new Error(`no schema ${name}`);
    return validate;
  };

  const responseObject = (template: string, status: number): Record<string, Json> | undefined => {
    let response = document.paths[template]?.get?.responses?.[String(status)] as
      | Record<string, Json>
      | undefined;
    const ref = response?.$ref;
    if (typeof ref === 'string') {
      response = document.components.responses[ref.replace('#/components/responses/', '')] as Record<
        string,
        Json
      >;
    }
    return response;
  };

  return {
    schema,
    response(template, status, contentType) {
      const content = responseObject(template, status)?.content as
        | Record<string, { schema?: { $ref?: string } }>
        | undefined;
      const ref = content?.[contentType]?.schema?.$ref;
      return ref === undefined ? undefined : schema(ref.replace('#/components/schemas/', ''));
    },
    mediaTypes(template, status) {
      return Object.keys(
        (responseObject(template, status)?.content as Record<string, Json> | undefined) ?? {},
      );
    },
  };
}

/** `ajv.errorsText` for a failed validation, for assertion messages. */
export function explain(validate: ValidateFunction): string {
  return (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`).join('; ');
}
