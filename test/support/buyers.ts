import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { purchase } from './http-client';

/** One HTTP answer a buyer got. `at` is Date.now() when it arrived. */
export interface BuyerAnswer {
  readonly key: string;
  readonly url: string;
  readonly status: number;
  readonly ms: number;
  readonly at: number;
  readonly orderId: string | undefined;
  /** a 200 that answers a retry with an earlier request's order (Idempotent-Replayed) */
  readonly replayed: boolean;
}

export interface BuyersOptions {
  /** where to send the next request: round-robin over what this returns (a load balancer's view) */
  readonly urls: () => readonly string[];
  readonly sku: string;
  readonly buyers: number;
  /** pause between one buyer's purchases */
  readonly thinkMs?: number;
  /** pause before retrying after a 503 or a dropped request */
  readonly retryMs?: number;
  /** a request with no answer after this long counts as dropped (status 0) */
  readonly requestTimeoutMs?: number;
  /**
   * after this Date.now(), buyers start no new purchase and retry none: the bound that ends them even
   * when a test fails before it stops them (they would otherwise keep its jest worker alive for good)
   */
  readonly giveUpAt: number;
}

export interface Buyers {
  readonly answers: BuyerAnswer[];
  /** Idempotency-Key of every logical purchase -> the order id it was finally answered, if any */
  readonly purchases: Map<string, string | undefined>;
  /** purchases answered 200 so far */
  successes(): number;
  /** stop starting new purchases; resolves when every one in progress has its final answer */
  stop(): Promise<void>;
}

/**
 * Well-behaved clients under a fault: each buys one unit at a time with its own Idempotency-Key and,
 * as the API asks, retries a 503 (or a request that got no answer) with the same key until it gets a
 * final answer. Bounded: nothing is sent after `giveUpAt`.
 */
export function startBuyers(options: BuyersOptions): Buyers {
  const answers: BuyerAnswer[] = [];
  const purchases = new Map<string, string | undefined>();
  const run = randomBytes(3).toString('hex');
  const stopping = new AbortController();
  let turn = 0;
  let succeeded = 0;

  const pick = (): string => {
    const urls = options.urls();
    turn += 1;
    return urls[turn % urls.length] ?? '';
  };

  const buyer = async (id: number): Promise<void> => {
    for (let n = 0; !stopping.signal.aborted && Date.now() <= options.giveUpAt; n += 1) {
      const key = `buy-${run}-${id}-${n}`;
      purchases.set(key, undefined);
      for (;;) {
        const url = pick();
        const answer = await purchase(url, { sku: options.sku }, key, options.requestTimeoutMs ?? 5_000);
        const orderId = answer.status === 200 ? String(answer.body.orderId) : undefined;
        const replayed = answer.headers?.get('idempotent-replayed') === 'true';
        answers.push({ key, url, status: answer.status, ms: answer.ms, at: Date.now(), orderId, replayed });
        if (answer.status === 200) {
          purchases.set(key, orderId);
          succeeded += 1;
          break;
        }
        const retryable = answer.status === 503 || answer.status === 0;
        if (!retryable || Date.now() > options.giveUpAt) break;
        await sleep(options.retryMs ?? 100);
      }
      await sleep(options.thinkMs ?? 10);
    }
  };

  const running = Promise.all(Array.from({ length: options.buyers }, (_, id) => buyer(id)));
  return {
    answers,
    purchases,
    successes: () => succeeded,
    stop: async () => {
      stopping.abort();
      await running;
    },
  };
}

/**
 * Resolves when `condition` holds, polling; rejects after `timeoutMs`, with what `explain` says about
 * the stall (a fault test that times out on a CI machine is only worth a rerun if it says why).
 */
export async function waitUntil(
  condition: () => boolean,
  timeoutMs: number,
  what: string,
  explain?: () => Promise<string>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      const why = explain ? `\n${await explain().catch((error: unknown) => String(error))}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await sleep(20);
  }
}

/** how many answers of each status each URL gave since `since` (Date.now()) */
export function answersSince(buyers: Buyers, since: number): Record<string, Record<string, number>> {
  const counts: Record<string, Record<string, number>> = {};
  for (const answer of buyers.answers) {
    if (answer.at < since) continue;
    const byStatus = (counts[answer.url] ??= {});
    byStatus[answer.status] = (byStatus[answer.status] ?? 0) + 1;
  }
  return counts;
}
