import { z } from 'zod';
import { ERROR_CODES, statusOf, titleOf } from '../../domain/errors';
import type { ErrorCode } from '../../domain/errors';
import type { RequestSchemas } from '../validation';
import type { Operation, ResponseHeader } from './operations';
import { operations } from './operations';
import { PROBLEM_WHEN, problemType } from './problem-types';
import {
  healthSchema,
  liveSchema,
  orderSchema,
  problemSchema,
  productPageSchema,
  productSchema,
  purchaseAnswerSchema,
  resetAnswerSchema,
  stockLevelSchema,
} from './response-schemas';

type Json = Record<string, unknown>;

const SCHEMAS = '#/components/schemas/';
const PROBLEM_JSON = 'application/problem+json';

/** answers, by the name of their component */
const ANSWERS: Readonly<Record<string, z.ZodType>> = {
  PurchaseAnswer: purchaseAnswerSchema,
  StockLevel: stockLevelSchema,
  StockReset: resetAnswerSchema,
  Product: productSchema,
  ProductPage: productPageSchema,
  Order: orderSchema,
  Health: healthSchema,
  Live: liveSchema,
  Problem: problemSchema,
};

const RESPONSE_HEADERS: Readonly<Record<ResponseHeader | 'X-Instance-Id', Json>> = {
  'X-Instance-Id': {
    description: 'The instance that answered: how a client (or the attack harness) sees the load spread.',
    schema: { type: 'string' },
  },
  'Idempotent-Replayed': {
    description:
      'Present, `true`, when the answer is the replay of an earlier purchase with the same Idempotency-Key.',
    schema: { const: 'true' },
  },
  'Retry-After': {
    description: 'Seconds to wait before retrying.',
    schema: { type: 'string', pattern: '^\\d+$' },
  },
  Allow: { description: 'The methods this path takes.', schema: { type: 'string' } },
  RateLimit: {
    description:
      'The quota left under each rate limit that applies (draft-ietf-httpapi-ratelimit-headers): `"user";r=<left>;t=<seconds to reset>`. Sent when the fleet-wide rate limits are on.',
    schema: { type: 'string' },
  },
  'RateLimit-Policy': {
    description:
      'The rate limits that apply (draft-ietf-httpapi-ratelimit-headers): `"user";q=<attempts>;w=<window seconds>`. Sent when the fleet-wide rate limits are on.',
    schema: { type: 'string' },
  },
  'WWW-Authenticate': { description: 'The scheme the admin routes take.', schema: { type: 'string' } },
};

/** a schema as a part of the document: the document's dialect (3.1: 2020-12) holds for all of it */
function embedded(schema: Json): Json {
  const copy = { ...schema };
  delete copy.$schema;
  delete copy.$id;
  return copy;
}

/** a request schema as JSON Schema 2020-12: what a client may send (defaults optional, before transforms) */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  return embedded(z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any' }));
}

function components(): Json {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(ANSWERS)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    uri: (id) => `${SCHEMAS}${id}`,
  }) as { schemas: Record<string, Json> };
  return Object.fromEntries(Object.entries(schemas).map(([id, schema]) => [id, embedded(schema)]));
}

/** a problem document whose `code` is one of `codes` */
function problemOf(codes: readonly ErrorCode[]): Json {
  return {
    allOf: [
      { $ref: `${SCHEMAS}Problem` },
      {
        properties: {
          code: { enum: codes },
          type: { enum: codes.map(problemType) },
          status: { const: statusOf(codes[0] ?? 'internal_error') },
        },
      },
    ],
  };
}

const headerRefs = (names: readonly string[], required: boolean): Json =>
  Object.fromEntries(
    names.map((name) => [
      name,
      required
        ? { ...RESPONSE_HEADERS[name as ResponseHeader], required: true }
        : { $ref: `#/components/headers/${name}` },
    ]),
  );

function problemResponses(codes: readonly ErrorCode[]): Json {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(statusOf(code), [...(byStatus.get(statusOf(code)) ?? []), code]);
  return Object.fromEntries(
    [...byStatus].map(([status, sameStatus]) => {
      const headers = ['X-Instance-Id'];
      if (status === 503) headers.push('Retry-After');
      if (status === 429) headers.push('Retry-After', 'RateLimit-Policy');
      if (status === 401) headers.push('WWW-Authenticate');
      return [
        String(status),
        {
          description: sameStatus.map((code) => `\`${code}\`: ${PROBLEM_WHEN[code]}`).join('\n\n'),
          headers: headerRefs(headers, true),
          content: { [PROBLEM_JSON]: { schema: problemOf(sameStatus) } },
        },
      ];
    }),
  );
}

function parameters(op: Operation): Json[] {
  const query = op.query
    ? Object.entries((jsonSchema(op.query, 'input').properties ?? {}) as Record<string, Json>).map(
        ([name, schema]) => ({ name, in: 'query', required: false, schema }),
      )
    : [];
  const path = Object.entries(op.pathParams ?? {}).map(([name, schema]) => ({
    name,
    in: 'path',
    required: true,
    schema: jsonSchema(schema, 'input'),
  }));
  const headers = Object.entries(op.headers ?? {}).map(([name, header]) => ({
    name,
    in: 'header',
    required: header.required,
    description: header.description,
    schema: jsonSchema(header.schema, 'input'),
  }));
  return [...path, ...query, ...headers];
}

function operationObject(op: Operation): Json {
  const success = Object.fromEntries(
    Object.entries(op.responses).map(([status, response]) => [
      status,
      {
        description: response.description,
        headers: {
          ...headerRefs(['X-Instance-Id'], true),
          ...headerRefs(response.headers ?? [], false),
        },
        content: {
          [response.contentType ?? 'application/json']: response.schema
            ? { schema: { $ref: `${SCHEMAS}${componentOf(response.schema)}` } }
            : {},
        },
      },
    ]),
  );
  const security =
    op.admin === 'required'
      ? [{ adminBearer: [] }]
      : op.admin === 'optional'
        ? [{}, { adminBearer: [] }]
        : [];
  const params = parameters(op);
  return {
    operationId: `${op.method}${op.path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
    tags: [op.tag],
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(op.body
      ? {
          requestBody: {
            required: op.body.required,
            content: { 'application/json': { schema: jsonSchema(op.body.schema, 'input') } },
          },
        }
      : {}),
    responses: { ...success, ...problemResponses(op.problems) },
    security,
  };
}

function componentOf(schema: z.ZodType): string {
  const found = Object.entries(ANSWERS).find(([, candidate]) => candidate === schema);
  if (!found) throw new Error('an answer schema is missing from the document components');
  return found[0];
}

/** the API's version: changes when a client would have to */
const API_VERSION = '1.0.0';

/**
 * The OpenAPI 3.1 document, generated from the schemas the routes check requests with and the answers'
 * schemas. Built once per app; GET /openapi.json serves it and GET /docs renders it.
 */
export function openApiDocument(schemas: RequestSchemas): Json {
  const paths: Record<string, Json> = {};
  for (const op of operations(schemas))
    paths[op.path] = { ...paths[op.path], [op.method]: operationObject(op) };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Flash-sale inventory service',
      version: API_VERSION,
      description:
        'Sells exactly the stock it has. Errors are RFC 9457 problem documents (`application/problem+json`) with a stable `code`; every problem type is listed under `x-problem-types` and in the reference page (GET /docs). A known path with the wrong method is answered 405 with `Allow`; an unknown path 404 `not_found`. Every answer carries `X-Instance-Id`.',
    },
    paths,
    components: {
      schemas: components(),
      headers: RESPONSE_HEADERS,
      securitySchemes: {
        adminBearer: {
          type: 'http',
          scheme: 'bearer',
          description:
            '`Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time. With no ADMIN_TOKEN set (never in production) the admin routes are open.',
        },
      },
      responses: {
        NotFound: {
          description: PROBLEM_WHEN.not_found,
          headers: headerRefs(['X-Instance-Id'], true),
          content: { [PROBLEM_JSON]: { schema: problemOf(['not_found']) } },
        },
        MethodNotAllowed: {
          description: PROBLEM_WHEN.method_not_allowed,
          headers: headerRefs(['X-Instance-Id', 'Allow'], true),
          content: { [PROBLEM_JSON]: { schema: problemOf(['method_not_allowed']) } },
        },
      },
    },
    'x-problem-types': ERROR_CODES.map((code) => ({
      type: problemType(code),
      code,
      status: statusOf(code),
      title: titleOf(code),
      when: PROBLEM_WHEN[code],
    })),
  };
}
