import { setTimeout as sleep } from 'node:timers/promises';
import { resetStock } from '../service-client';

/** One sale between bots and buyers: who they are, how they behave, what is on sale. */
export interface RoundSettings {
  readonly target: string;
  readonly sku: string;
  readonly stock: number;
  readonly bots: number;
  readonly buyers: number;
  /** attempts a buyer makes at most: a refusal other than sold out sends them back after a pause */
  readonly tries: number;
  /** unmeasured purchases before the round (0: none) */
  readonly warmup: number;
  /** a buyer's first click lands after a think time drawn uniformly from [min, max] ms */
  readonly thinkMs: { readonly min: number; readonly max: number };
  readonly adminToken: string | undefined;
  readonly signal?: AbortSignal;
}

export interface GroupTally {
  readonly clients: number;
  readonly attempts: number;
  /** units bought */
  readonly units: number;
  /** clients that bought at least one unit */
  readonly served: number;
  /** answers by HTTP status (0: no answer) */
  readonly statuses: Record<string, number>;
}

export interface RoundResult {
  readonly bots: GroupTally;
  readonly buyers: GroupTally;
  readonly stock: number;
  /** buyers' units ÷ all units sold (0 when nothing sold) */
  readonly buyersShare: number;
  /** buyers ÷ all clients: the share each client having an equal chance would give them */
  readonly fairShare: number;
}

const ANSWER_TIMEOUT_MS = 10_000;

class Tally {
  attempts = 0;
  units = 0;
  readonly served = new Set<number>();
  readonly statuses: Record<string, number> = {};

  record(client: number, status: number, units: number): void {
    this.attempts += 1;
    this.statuses[status] = (this.statuses[status] ?? 0) + 1;
    if (units > 0) {
      this.units += units;
      this.served.add(client);
    }
  }

  freeze(clients: number): GroupTally {
    const { attempts, units, statuses } = this;
    return { clients, attempts, units, served: this.served.size, statuses };
  }
}

/**
 * Each client is one buyer account on one address: X-Forwarded-For names it, which a service with
 * TRUST_PROXY=1 directly behind this harness (the local fleet) reads as the client's address. Behind a
 * real load balancer the header is overwritten in effect (the service reads the hop the ALB appended),
 * and every client is the harness machine's one address.
 */
async function attempt(
  settings: RoundSettings,
  who: { userId: string; address: string },
): Promise<{ status: number; units: number; retryAfterMs: number }> {
  try {
    const res = await fetch(`${settings.target}/purchase/safe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': who.address },
      body: JSON.stringify({ sku: settings.sku, userId: who.userId }),
      signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS),
    });
    const body = (await res.json().catch(() => ({}))) as { quantity?: unknown };
    const units = res.status === 200 && typeof body.quantity === 'number' ? body.quantity : 0;
    const retryAfter = Number(res.headers.get('retry-after') ?? 0);
    return { status: res.status, units, retryAfterMs: Number.isFinite(retryAfter) ? retryAfter * 1000 : 0 };
  } catch {
    return { status: 0, units: 0, retryAfterMs: 0 };
  }
}

/** 10.<group>.<high>.<low>: a distinct address per client, in a private range */
const address = (group: number, i: number): string => `10.${group}.${Math.floor(i / 250)}.${(i % 250) + 1}`;

const WARM_UP_CONCURRENCY = 20;

/**
 * A fleet just started is cold (JIT, connections): its first few hundred answers are several times
 * slower, and a bot's head start would be measured in them. Unmeasured purchases of a SKU of their own,
 * each from a client of its own, so that no limit counts them against a bot or a buyer.
 */
async function warmUp(settings: RoundSettings): Promise<void> {
  if (settings.warmup === 0) return;
  const sku = `${settings.sku}-warmup`;
  await resetStock(settings.target, sku, settings.warmup, settings.adminToken);
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let i = next++; i < settings.warmup; i = next++) {
      await attempt({ ...settings, sku }, { userId: `warm-up-${i}`, address: address(99, i) });
    }
  };
  await Promise.all(Array.from({ length: WARM_UP_CONCURRENCY }, lane));
}

/**
 * Resets the SKU, then lets the bots loop as fast as they can (one request in flight each, the next sent
 * the moment an answer arrives, whatever it says) while every buyer thinks, clicks, and tries again a few
 * times after a refusal that is not "sold out". The round ends when every buyer is done.
 */
export async function runRound(settings: RoundSettings): Promise<RoundResult> {
  await warmUp(settings);
  await resetStock(settings.target, settings.sku, settings.stock, settings.adminToken);
  const bots = new Tally();
  const buyers = new Tally();
  let buyersDone = false;

  const bot = async (i: number): Promise<void> => {
    const who = { userId: `bot-${i}`, address: address(66, i) };
    while (!buyersDone && settings.signal?.aborted !== true) {
      const answer = await attempt(settings, who);
      bots.record(i, answer.status, answer.units);
    }
  };

  const { min, max } = settings.thinkMs;
  const think = (): Promise<void> => sleep(min + Math.random() * (max - min));
  const buyer = async (i: number): Promise<void> => {
    const who = { userId: `buyer-${i}`, address: address(77, i) };
    await think();
    for (let t = 0; t < settings.tries && settings.signal?.aborted !== true; t += 1) {
      const answer = await attempt(settings, who);
      buyers.record(i, answer.status, answer.units);
      // bought, or nothing left to buy: a person stops there
      if (answer.units > 0 || answer.status === 409) return;
      // a refusal that says when to come back is taken at its word, if a person would wait that long
      await sleep(Math.min(Math.max(answer.retryAfterMs, min), max));
    }
  };

  const looping = Array.from({ length: settings.bots }, (_, i) => bot(i));
  await Promise.all(Array.from({ length: settings.buyers }, (_, i) => buyer(i)));
  buyersDone = true;
  await Promise.all(looping);

  const bought = bots.units + buyers.units;
  return {
    bots: bots.freeze(settings.bots),
    buyers: buyers.freeze(settings.buyers),
    stock: settings.stock,
    buyersShare: bought === 0 ? 0 : buyers.units / bought,
    fairShare: settings.buyers / (settings.bots + settings.buyers),
  };
}
