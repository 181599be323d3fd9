import type { IncomingHttpHeaders } from 'node:http';
import autocannon from 'autocannon';
import { answerField, headerValue } from '../run-attack';
import type { StormAnswer } from './failover-result';

/**
 * The safe storm of the failover act: purchases over keep-alive connections until stopped, each answer
 * kept with its time, its status, its instance and, for a 200, its order id, so that the log can be
 * checked against what buyers were told once the dust settles.
 */
export interface Storm {
  /** ms since the first request */
  elapsedMs(): number;
  readonly answers: readonly StormAnswer[];
  /** stops sending; resolves once autocannon has handed back its connections */
  stop(): Promise<void>;
  /** resolves when the storm ends by itself (its cap) or after stop() */
  readonly done: Promise<void>;
}

/** a storm that nobody stops ends after this long */
const CAP_SECONDS = 60;

export function startStorm(options: {
  readonly target: string;
  readonly sku: string;
  readonly connections: number;
}): Storm {
  const answers: StormAnswer[] = [];
  const started = Date.now();
  const elapsedMs = (): number => Date.now() - started;
  const onResponse = (
    status: number,
    body: string,
    _context: object,
    headers: IncomingHttpHeaders | undefined,
  ): void => {
    const orderId = status === 200 ? answerField(body, 'orderId', 'string') : undefined;
    answers.push({
      at: elapsedMs(),
      status,
      instance: headerValue(headers ?? {}, 'x-instance-id'),
      ...(orderId === undefined ? {} : { orderId }),
    });
  };
  let instance: autocannon.Instance | undefined;
  const done = new Promise<void>((resolve, reject) => {
    instance = autocannon(
      {
        url: `${options.target}/purchase/safe`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sku: options.sku }),
        connections: options.connections,
        duration: CAP_SECONDS,
        timeout: 5,
        requests: [{ onResponse }],
      },
      (error: Error | null) => {
        if (error) reject(error);
        else resolve();
      },
    );
    instance.on('reqError', () => {
      answers.push({ at: elapsedMs(), status: 0, instance: 'none' });
    });
  });
  return {
    elapsedMs,
    answers,
    done,
    stop: async () => {
      instance?.stop();
      await done;
    },
  };
}
