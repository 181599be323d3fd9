import type { RequestHandler } from 'express';
import { AppError } from '../domain/errors';
import type { Operation } from './openapi/operations';
import { sendProblem } from './problem';

interface KnownPath {
  readonly pattern: RegExp;
  readonly methods: ReadonlySet<string>;
  readonly allow: string;
}

/** `/products/{sku}` as Express matches `/products/:sku`: one segment per parameter, a trailing slash allowed */
function patternOf(template: string): RegExp {
  const escaped = template
    .split(/\{[^}]+\}/)
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^/]+');
  return new RegExp(`^${escaped}/?$`, 'i');
}

/**
 * After every route and before the 404: a path the API has, asked with a method it does not take, is
 * 405 with `Allow` rather than "no route". The methods come from the operations the reference documents.
 */
export function methodNotAllowed(operations: readonly Operation[]): RequestHandler {
  const methods = new Map<string, Set<string>>();
  for (const op of operations) {
    const set = methods.get(op.path) ?? new Set<string>();
    set.add(op.method.toUpperCase());
    // Express answers HEAD with the GET route
    if (op.method === 'get') set.add('HEAD');
    methods.set(op.path, set);
  }
  const known: KnownPath[] = [...methods].map(([path, set]) => ({
    pattern: patternOf(path),
    methods: set,
    allow: [...set].join(', '),
  }));
  return (req, res, next) => {
    const match = known.find((candidate) => candidate.pattern.test(req.path));
    // a method the path takes reached here only because its route refused this spelling of the path
    // (the operations routes take their exact, lower-case paths only): that is "no route", not 405
    if (!match || match.methods.has(req.method)) {
      next();
      return;
    }
    res.setHeader('Allow', match.allow);
    sendProblem(
      res,
      new AppError('method_not_allowed', `${req.path} takes ${match.allow}, not ${req.method}`),
    );
  };
}
