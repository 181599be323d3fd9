import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import request from 'supertest';
import { createRedisClient } from '../../app/redis/client';
import { skuKeys } from '../../app/redis/keys';
import { isStoreUnavailable } from '../../app/redis/errors';
import { startRedis } from '../../attack/local/redis-server';
import type { LocalRedis } from '../../attack/local/redis-server';
import { withRedis } from '../../attack/local/with-redis';
import { recordFigures } from '../support/figures';
import { auth, startTestService, testConfig, uniqueSku } from '../support/fixtures';
import type { TestService } from '../support/fixtures';
import { startPrimaryEndpoint } from '../support/primary-endpoint';
import type { PrimaryEndpoint } from '../support/primary-endpoint';
import { isReplicaSynced } from '../../attack/local/sentinel-group';

/**
 * A failover as ElastiCache makes one: the primary endpoint moves to the promoted replica, and the former
 * primary is demoted in place, with the connections open to it left open. Redis's own FAILOVER command does
 * exactly that (Sentinel, by contrast, kills the clients of a node it demotes, which hides the problem).
 * The service's client must notice the READONLY replies and reconnect; a client without reconnectOnError is
 * the control: its socket stays on the replica and every write fails.
 */
describe('when the primary is demoted in place while connections to it stay open', () => {
  let primary: LocalRedis | undefined;
  let replica: LocalRedis | undefined;
  let endpoint: PrimaryEndpoint | undefined;
  let svc: TestService | undefined;
  const clients: Redis[] = [];

  beforeEach(async () => {
    primary = await startRedis();
    replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(primary.port)] });
    for (let attempt = 0; !(await isReplicaSynced(replica.port)); attempt += 1) {
      if (attempt > 300) throw new Error('the replica did not finish its first sync');
      await sleep(100);
    }
    endpoint = await startPrimaryEndpoint([primary.port, replica.port]);
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.disconnect();
    await svc?.stop();
    svc = undefined;
    await endpoint?.stop();
    await replica?.stop();
    await primary?.stop();
  });

  /** FAILOVER on the primary: it waits for the replica to catch up, promotes it and becomes its replica */
  async function failOver(): Promise<void> {
    const formerPort = primary?.port ?? 0;
    const promotedPort = replica?.port ?? 0;
    await withRedis(formerPort, (redis) => redis.call('FAILOVER'));
    for (let attempt = 0; ; attempt += 1) {
      const [former, promoted] = await Promise.all(
        [formerPort, promotedPort].map((port) =>
          withRedis(port, (redis) => redis.call('ROLE') as Promise<[string]>),
        ),
      );
      if (former?.[0] === 'slave' && promoted?.[0] === 'master') return;
      if (attempt > 300)
        throw new Error(`no failover: roles ${String(former?.[0])}, ${String(promoted?.[0])}`);
      await sleep(50);
    }
  }

  /** writes until one succeeds (at most `attempts`), and returns the errors met before it */
  async function writeUntilAccepted(client: Redis, attempts: number): Promise<Error[]> {
    const errors: Error[] = [];
    for (let attempt = 0; attempt < attempts; attempt += 1) {
      try {
        await client.set('after-failover', String(attempt));
        return errors;
      } catch (error) {
        errors.push(error as Error);
        await sleep(50);
      }
    }
    throw new Error(`no write accepted in ${attempts} attempts: ${errors.map((e) => e.message).join(' | ')}`);
  }

  function connect(overrides: Parameters<typeof createRedisClient>[1] = {}): Redis {
    const client = createRedisClient(
      testConfig({ REDIS_URL: endpoint?.url ?? '' }).redis,
      overrides,
    ) as Redis;
    client.on('error', () => undefined);
    clients.push(client);
    return client;
  }

  it("then the service's client reconnects on the first READONLY and writes reach the new primary", async () => {
    const client = connect();
    await client.connect();
    await client.set('before-failover', '1');
    const idBefore = await client.client('ID');

    await failOver();
    const errors = await writeUntilAccepted(client, 100);
    recordFigures('readonly-after-failover-client', {
      errorsBeforeTheFirstAcceptedWrite: errors.map((error) => error.message.slice(0, 40)),
    });

    // the first write met the demoted primary and was refused, as a reply that says nothing was written
    expect(errors[0]?.message).toMatch(/^READONLY/);
    expect(errors.every((error) => isStoreUnavailable(error))).toBe(true);
    // the write that was accepted went through a new connection, to the promoted replica
    expect(await client.client('ID')).not.toBe(idBefore);
    expect(await withRedis(replica?.port ?? 0, (redis) => redis.exists('after-failover'))).toBe(1);
    expect(endpoint?.forwarded.get(replica?.port ?? 0)).toBeGreaterThanOrEqual(1);
  });

  it('without reconnectOnError (the control), then the connection stays on the demoted primary and every write fails', async () => {
    const client = connect({ reconnectOnError: null });
    await client.connect();
    await client.set('before-failover', '1');
    const idBefore = await client.client('ID');

    await failOver();
    const results = [];
    for (let attempt = 0; attempt < 20; attempt += 1) {
      results.push(
        await client.set('after-failover', '1').catch((error: unknown) => (error as Error).message),
      );
    }

    expect(new Set(results.map((result) => result.slice(0, 8)))).toEqual(new Set(['READONLY']));
    expect(await client.client('ID')).toBe(idBefore);
  });

  it('then purchases refused during the switch are 503 store_unavailable (nothing sold), and the next sells on the new primary', async () => {
    svc = await startTestService({ REDIS_URL: endpoint?.url ?? '' });
    const sku = uniqueSku('readonly');
    await request(svc.url).post(`/stock/reset?sku=${sku}&amount=10`).set(auth).expect(200);
    await request(svc.url).post('/purchase/safe').send({ sku }).expect(200);

    await failOver();
    const answers: { status: number; code?: string }[] = [];
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const res = await request(svc.url).post('/purchase/safe').send({ sku });
      answers.push({ status: res.status, code: (res.body as { code?: string }).code });
      if (res.status === 200) break;
      await sleep(50);
    }

    recordFigures('readonly-after-failover', {
      answersBeforeTheFirstSale: answers.slice(0, -1).map((a) => `${a.status} ${a.code ?? ''}`.trim()),
      connectionsToThePromotedReplica: endpoint?.forwarded.get(replica?.port ?? 0) ?? 0,
    });
    expect(answers.at(-1)?.status).toBe(200);
    // what came before the sale was refused as "nothing sold, try again", never as an unknown outcome
    expect(answers.slice(0, -1).every((a) => a.status === 503 && a.code === 'store_unavailable')).toBe(true);
    // the two sales, the one before the failover (replicated) and the one after, on the new primary
    expect(await withRedis(replica?.port ?? 0, (redis) => redis.get(skuKeys(sku).stock))).toBe('8');
    const res = await request(svc.url).get(`/stock?sku=${sku}`).expect(200);
    expect(res.body).toMatchObject({ current_stock: 8, sold: 2 });
  });
});
