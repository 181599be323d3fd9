import Ajv2020 from 'ajv/dist/2020';
import type { ValidateFunction } from 'ajv';

type Json = Record<string, unknown>;

/** An answer as the wire carried it. */
export interface WireAnswer {
  readonly method: string;
  /** the request path, query string allowed */
  readonly path: string;
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

/** a JSON pointer below `base`, each part escaped (RFC 6901) and percent-encoded for a URI fragment */
const pointer = (base: string, ...parts: string[]): string =>
  base +
  parts.map((part) => `/${encodeURIComponent(part.replace(/~/g, '~0').replace(/\//g, '~1'))}`).join('');

/**
 * Checks real answers against the service's OpenAPI document: the status is one the operation
 * documents, the Content-Type one it names, the body valid against its schema (JSON Schema 2020-12, as
 * OpenAPI 3.1 says), every required header present and every documented header valid. It also counts
 * which documented answers were seen, so a test can tell what it never exercised.
 */
export class OpenApiContract {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly templates: { template: string; pattern: RegExp }[];
  /** `GET /stock 404 unknown_sku`, for every documented answer seen */
  readonly seen = new Set<string>();

  constructor(readonly document: Json) {
    this.ajv.addSchema(document, 'openapi.json');
    this.templates = Object.keys(document.paths as Json).map((template) => ({
      template,
      pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
    }));
  }

  /** every documented answer, keyed as `seen` is: what a complete test exercises */
  documented(): string[] {
    const keys: string[] = [];
    for (const [template, methods] of Object.entries(this.document.paths as Record<string, Json>)) {
      for (const [method, op] of Object.entries(methods as Record<string, Json>)) {
        for (const [status, response] of Object.entries(op.responses as Record<string, Json>)) {
          for (const code of this.codesOf(response)) {
            keys.push(`${method.toUpperCase()} ${template} ${status}${code ? ` ${code}` : ''}`);
          }
        }
      }
    }
    keys.push('* unknown path 404 not_found', '* known path, other method 405 method_not_allowed');
    return keys;
  }

  private codesOf(response: Json): string[] {
    const media = (response.content as Record<string, Json> | undefined)?.['application/problem+json'];
    const allOf = (media?.schema as Json | undefined)?.allOf as Json[] | undefined;
    const code = ((allOf?.[1]?.properties as Json | undefined)?.code as Json | undefined)?.enum as
      string[] | undefined;
    return code ?? [''];
  }

  private validator(ref: string): ValidateFunction {
    let validate = this.validators.get(ref);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `openapi.json#${ref}` });
      this.validators.set(ref, validate);
    }
    return validate;
  }

  private check(ref: string, value: unknown, what: string): string[] {
    const validate = this.validator(ref);
    if (validate(value)) return [];
    return (validate.errors ?? []).map(
      (e) => `${what}${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`,
    );
  }

  /** the violations of one answer; [] when it keeps the contract */
  violations(answer: WireAnswer): string[] {
    const path = answer.path.split('?')[0] ?? '';
    const method = answer.method.toLowerCase();
    const found = this.templates.find((t) => t.pattern.test(path));
    const paths = this.document.paths as Record<string, Json>;
    let responseRef: string;
    let key: string;
    if (!found) {
      responseRef = pointer('', 'components', 'responses', 'NotFound');
      key = '* unknown path';
      if (answer.status !== 404) return [`${answer.method} ${path}: no such path, answered ${answer.status}`];
    } else if (!(method in (paths[found.template] ?? {}))) {
      responseRef = pointer('', 'components', 'responses', 'MethodNotAllowed');
      key = '* known path, other method';
      if (answer.status !== 405)
        return [`${answer.method} ${path}: undocumented method, answered ${answer.status}`];
    } else {
      const responses = ((paths[found.template] as Json)[method] as Json).responses as Json;
      if (!(String(answer.status) in responses)) {
        return [
          `${answer.method} ${found.template}: status ${answer.status} is not documented (${answer.text.slice(0, 200)})`,
        ];
      }
      responseRef = pointer('', 'paths', found.template, method, 'responses', String(answer.status));
      key = `${method.toUpperCase()} ${found.template}`;
    }
    const response = this.resolve(responseRef);
    const problems: string[] = [];

    const contentType = (answer.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
    const content = (response.content ?? {}) as Record<string, Json>;
    if (!(contentType in content)) {
      problems.push(`Content-Type ${contentType} is not one of ${Object.keys(content).join(', ')}`);
    } else if ((content[contentType] as Json).schema) {
      let body: unknown;
      try {
        body = JSON.parse(answer.text);
      } catch {
        problems.push(`the body is not JSON: ${answer.text.slice(0, 200)}`);
      }
      if (body !== undefined) {
        problems.push(...this.check(pointer(responseRef, 'content', contentType, 'schema'), body, 'body'));
        const code = (body as Json).code;
        this.seen.add(
          `${key} ${answer.status}${typeof code === 'string' && contentType.startsWith('application/problem') ? ` ${code}` : ''}`,
        );
      }
    } else {
      this.seen.add(`${key} ${answer.status}`);
    }

    for (const [name, raw] of Object.entries((response.headers ?? {}) as Record<string, Json>)) {
      const header = raw.$ref ? this.resolve((raw.$ref as string).slice(1)) : raw;
      const value = answer.headers.get(name);
      if (value === null) {
        if (header.required === true) problems.push(`header ${name} is missing`);
        continue;
      }
      const ref = raw.$ref
        ? `${(raw.$ref as string).slice(1)}/schema`
        : pointer(responseRef, 'headers', name, 'schema');
      problems.push(...this.check(ref, value, `header ${name}`));
    }
    return problems.map((p) => `${answer.method} ${answer.path} ${answer.status}: ${p}`);
  }

  private resolve(ref: string): Json {
    let node: unknown = this.document;
    for (const part of ref.split('/').slice(1)) {
      node = (node as Json)[decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~')];
    }
    return node as Json;
  }
}
