import pino from 'pino';
import type { Logger } from 'pino';

export type { Logger };

/**
 * JSON logs, written asynchronously (a buffered destination) so logging never blocks the event loop on
 * the hot path. Credentials never reach a log line: the redaction list is the safety net, and request
 * bodies are never logged in the first place.
 */
export function createLogger(level: string, instanceId: string): Logger {
  return pino(
    {
      level,
      base: { instance: instanceId },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          'req.headers.authorization',
          'headers.authorization',
          'password',
          'token',
          '*.password',
          '*.token',
        ],
        censor: '[redacted]',
      },
    },
    pino.destination({ sync: false }),
  );
}

/** Flushes buffered lines; called on shutdown so the last lines are not lost. */
export function flushLogger(logger: Logger): void {
  logger.flush();
}
