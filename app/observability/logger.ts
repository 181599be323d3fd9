import pino from 'pino';
import type { DestinationStream, Logger } from 'pino';

export type { Logger };

/**
 * What a log line may hold of an error: its kind, message, code and stack. Never the rest: a Redis
 * client's error carries the command and its arguments (a buyer's userId, an Idempotency-Key), a driver's
 * may carry the query's parameters.
 */
function safeError(error: unknown): unknown {
  if (typeof error !== 'object' || error === null) return error;
  const { name, message, stack, code } = error as {
    name?: unknown;
    message?: unknown;
    stack?: unknown;
    code?: unknown;
  };
  return {
    type: typeof name === 'string' ? name : 'Error',
    message: typeof message === 'string' ? message : String(message),
    ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
    ...(typeof stack === 'string' ? { stack } : {}),
  };
}

/**
 * Paths that must never reach a log line, whatever a caller passes: credentials, buyers' identities and
 * Idempotency-Keys, request bodies. Errors are reduced by `safeError` before this applies.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["idempotency-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["idempotency-key"]',
  'password',
  'token',
  'userId',
  'idempotencyKey',
  'body',
  '*.password',
  '*.token',
  '*.userId',
  '*.idempotencyKey',
  '*.body',
];

/**
 * JSON logs, written asynchronously (a buffered destination) so logging never blocks the event loop on
 * the hot path. `destination` is for tests that read what was logged.
 */
export function createLogger(level: string, instanceId: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { instance: instanceId },
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: { err: safeError, error: safeError },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    destination ?? pino.destination({ sync: false }),
  );
}

/** Flushes buffered lines; called on shutdown so the last lines are not lost. */
export function flushLogger(logger: Logger): void {
  logger.flush();
}
