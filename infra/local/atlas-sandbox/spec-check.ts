/**
 * Checks requests against the official OpenAPI subset (test/fixtures/atlas-invoices-openapi.json): the path must be
 * one of its paths (or the legacy v1.0 / Cloud Manager equivalents of the four invoice operations), the method
 * declared, every query parameter declared for the operation with a valid value, path parameters valid, and Accept
 * exactly one of the operation's success media types.
 */
export interface OpenApiParameter {
  readonly $ref?: string;
  readonly name?: string;
  readonly in?: string;
  readonly required?: boolean;
  readonly schema?: ParamSchema;
}

export interface ParamSchema {
  readonly type?: string;
  readonly enum?: readonly unknown[];
  readonly pattern?: string;
  readonly format?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly items?: ParamSchema;
  readonly uniqueItems?: boolean;
}

export interface OpenApiDocument {
  readonly paths: Readonly<
    Record<
      string,
      Readonly<
        Record<
          string,
          {
            readonly operationId?: string;
            readonly parameters?: readonly OpenApiParameter[];
            readonly responses?: Readonly<
              Record<string, { readonly content?: Readonly<Record<string, unknown>> }>
            >;
          }
        >
      >
    >
  >;
  readonly components?: { readonly parameters?: Readonly<Record<string, OpenApiParameter>> };
}

export interface SpecViolation {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly problem: string;
}

interface Operation {
  readonly method: string;
  readonly template: string;
  readonly pattern: RegExp;
  readonly pathParams: readonly string[];
  readonly params: ReadonlyMap<string, OpenApiParameter>;
  readonly accepts: readonly string[];
  readonly literalLength: number;
}

const LEGACY_OPERATIONS = ['listOrgInvoices', 'getOrgInvoice', 'getOrgInvoiceCsv', 'listOrgInvoicePending'];
const CLOUD_MANAGER_QUERY = new Set(['pageNum', 'itemsPerPage', 'pretty', 'envelope']);

function compile(
  method: string,
  template: string,
  params: ReadonlyMap<string, OpenApiParameter>,
  accepts: readonly string[],
): Operation {
  const pathParams: string[] = [];
  const source = template.replace(/\{([^}]+)\}|[^{]+/g, (part, name: string | undefined) => {
    if (name !== undefined) {
      pathParams.push(name);
      return '([^/]+)';
    }
    return part.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
  });
  return {
    method,
    template,
    pattern: new RegExp(`^${source}$`),
    pathParams,
    params,
    accepts,
    literalLength: template.replace(/\{[^}]+\}/g, '').length,
  };
}

export function createSpecChecker(document: OpenApiDocument) {
  const resolve = (parameter: OpenApiParameter): OpenApiParameter => {
    if (parameter.$ref === undefined) return parameter;
    const name = parameter.$ref.replace('#/components/parameters/', '');
    const target = document.components?.parameters?.[name];
    if (target === undefined) throw new Error(`spec: unresolved parameter ${parameter.$ref}`);
    return target;
  };

  const operations: Operation[] = [];
  for (const [template, methods] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      const params = new Map<string, OpenApiParameter>();
      for (const raw of operation.parameters ?? []) {
        const parameter = resolve(raw);
        if (parameter.name !== undefined) params.set(parameter.name, parameter);
      }
      const success =
        operation.responses?.['200'] ?? operation.responses?.['201'] ?? operation.responses?.['202'];
      const accepts = Object.keys(success?.content ?? {});
      operations.push(compile(method.toUpperCase(), template, params, accepts));
      if (operation.operationId !== undefined && LEGACY_OPERATIONS.includes(operation.operationId)) {
        const legacyAccepts =
          operation.operationId === 'getOrgInvoiceCsv' ? ['text/csv'] : ['application/json'];
        const v1 = template.replace('/api/atlas/v2/', '/api/atlas/v1.0/');
        operations.push(compile(method.toUpperCase(), v1, params, legacyAccepts));
        const cloudManager = template.replace('/api/atlas/v2/', '/api/public/v1.0/');
        const cmParams = new Map(
          [...params].filter(([name, p]) => p.in !== 'query' || CLOUD_MANAGER_QUERY.has(name)),
        );
        operations.push(compile(method.toUpperCase(), cloudManager, cmParams, legacyAccepts));
      }
    }
  }
  // Literal segments win over parameters (`/invoices/pending` before `/invoices/{invoiceId}`).
  operations.sort((a, b) => b.literalLength - a.literalLength);

  return {
    /** Problems with one request (empty when it matches the spec). `path` is the decoded path, `rawQuery` as sent. */
    check(method: string, path: string, rawQuery: string, accept: string | undefined): string[] {
      const candidates = operations.filter((op) => op.pattern.test(path));
      if (candidates.length === 0) return [`path ${path} is not in the spec`];
      const operation = candidates.find((op) => op.method === method);
      if (operation === undefined) return [`method ${method} is not declared for ${candidates[0]?.template}`];
      const problems: string[] = [];
      const values = operation.pattern.exec(path)?.slice(1) ?? [];
      operation.pathParams.forEach((name, i) => {
        const problem = checkValue(operation.params.get(name)?.schema, [decodeURIComponent(values[i] ?? '')]);
        if (problem !== undefined) problems.push(`path parameter ${name} ${problem}`);
      });
      const query = new URLSearchParams(rawQuery);
      for (const name of new Set(query.keys())) {
        const parameter = operation.params.get(name);
        if (parameter === undefined || parameter.in !== 'query') {
          problems.push(`query parameter ${name} is not declared for ${method} ${operation.template}`);
          continue;
        }
        const problem = checkValue(parameter.schema, query.getAll(name));
        if (problem !== undefined) problems.push(`query parameter ${name} ${problem}`);
      }
      for (const [name, parameter] of operation.params) {
        if (parameter.in === 'query' && parameter.required && !query.has(name)) {
          problems.push(`required query parameter ${name} is missing`);
        }
      }
      const sent = (accept ?? '').trim();
      if (!operation.accepts.includes(sent)) {
        problems.push(
          `Accept "${sent.slice(0, 80)}" is not one of ${operation.accepts.join(', ')} for ${operation.template}`,
        );
      }
      return problems;
    },
  };
}

export type SpecChecker = ReturnType<typeof createSpecChecker>;

/** Checks the values of one parameter (several only for arrays); a description of the problem or undefined. */
export function checkValue(schema: ParamSchema | undefined, values: readonly string[]): string | undefined {
  if (schema === undefined) return undefined;
  if (schema.type === 'array') {
    if (schema.uniqueItems && new Set(values).size !== values.length) return 'repeats a value';
    for (const value of values) {
      const problem = checkValue(schema.items, [value]);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  if (values.length !== 1) return 'is given more than once';
  const value = values[0] ?? '';
  const shown = JSON.stringify(value.slice(0, 40));
  switch (schema.type) {
    case 'boolean':
      if (value !== 'true' && value !== 'false') return `must be true or false (got ${shown})`;
      break;
    case 'integer': {
      if (!/^-?\d+$/.test(value)) return `must be an integer (got ${shown})`;
      const n = Number(value);
      if (schema.minimum !== undefined && n < schema.minimum) return `must be at least ${schema.minimum}`;
      if (schema.maximum !== undefined && n > schema.maximum) return `must be at most ${schema.maximum}`;
      break;
    }
    default: {
      if (schema.enum !== undefined && !schema.enum.includes(value))
        return `must be one of ${schema.enum.join(', ')}`;
      if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) {
        return `does not match ${schema.pattern} (got ${shown})`;
      }
      if (schema.minLength !== undefined && value.length < schema.minLength) return 'is too short';
      if (schema.maxLength !== undefined && value.length > schema.maxLength) return 'is too long';
      if (
        schema.format === 'date' &&
        (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`)))
      ) {
        return `must be a date like 2024-06-01 (got ${shown})`;
      }
    }
  }
  return undefined;
}
