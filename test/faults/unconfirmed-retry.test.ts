import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { skuKeys } from '../../app/redis/keys';
import { startRedis } from '../../attack/local/redis-server';
import type { LocalRedis } from '../../attack/local/redis-server';
import { withRedis } from '../../attack/local/with-redis';
import { auth, startTestService, uniqueSku } from '../support/fixtures';
import type { TestService } from '../support/fixtures';
import { isReplicaSynced } from '../../attack/local/sentinel-group';

/**
 * REDIS_WAIT_REPLICAS=1 with a replica that stops acknowledging (SIGSTOP: a replica in a zone that is
 * cut off). A purchase the replica never confirmed gets a 503 and its client retries with the same
 * Idempotency-Key. The retry finds the order, but the order is still held by the primary alone: the
 * retry must not turn that into a 200 either, on the instance that took the purchase nor on another
 * one (whose own connection wrote nothing since the replica stopped), until the replica has it.
 */
describe('a retry of a purchase no replica confirmed (REDIS_WAIT_REPLICAS=1)', () => {
  let primary: LocalRedis;
  let replica: LocalRedis;
  let instances: TestService[] = [];
  let replicaStopped = false;

  const pauseReplica = (paused: boolean): void => {
    replica.process.kill(paused ? 'SIGSTOP' : 'SIGCONT');
    replicaStopped = paused;
  };

  beforeAll(async () => {
    // no 5 s wait before the first sync: the replica holds everything before the test starts
    primary = await startRedis({ args: ['--repl-diskless-sync-delay', '0'] });
    replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(primary.port)] });
    for (let attempt = 0; !(await isReplicaSynced(replica.port)); attempt += 1) {
      if (attempt > 100) throw new Error('the replica never synced');
      await sleep(100);
    }
    // A WAIT long enough for a replica that is merely slow (a busy machine) to confirm; the one stopped by
    // SIGSTOP never does, however long.
    const env = {
      REDIS_URL: primary.url,
      REDIS_WAIT_REPLICAS: '1',
      REDIS_WAIT_TIMEOUT_MS: '1000',
      REDIS_COMMAND_TIMEOUT_MS: '3000',
    };
    instances = [await startTestService(env), await startTestService(env)];
  }, 30_000);

  afterAll(async () => {
    if (replicaStopped) pauseReplica(false);
    await Promise.all(instances.map((instance) => instance.stop()));
    await replica.stop();
    await primary.stop();
  });

  it('then the retry is a 503 on every instance while the replica is stopped, and the same order once it is back', async () => {
    const [a, b] = instances.map((instance) => instance.url) as [string, string];
    const sku = uniqueSku('unconfirmed');
    await request(a).post(`/stock/reset?sku=${sku}&amount=10`).set(auth).expect(200);
    const buy = (url: string, key: string) =>
      request(url).post('/purchase/safe').set('Idempotency-Key', key).send({ sku });
    /** as a client does: retry a 503 with the same key until the answer is final (bounded) */
    const buyUntilConfirmed = async (url: string, key: string) => {
      let answer = await buy(url, key);
      for (let attempt = 0; answer.status === 503 && attempt < 20; attempt += 1) {
        await sleep(100);
        answer = await buy(url, key);
      }
      return answer;
    };

    // both instances' connections have written, and the replica has confirmed it
    expect((await buyUntilConfirmed(a, 'confirmed-on-a')).status).toBe(200);
    expect((await buyUntilConfirmed(b, 'confirmed-on-b')).status).toBe(200);

    pauseReplica(true);
    const first = await buy(a, 'unconfirmed');
    expect(first.status).toBe(503);
    // taken by the primary, not confirmed by a replica: it may or may not survive a failover
    expect(first.body).toMatchObject({ code: 'purchase_outcome_unknown' });
    expect(first.headers['retry-after']).toBe('1');

    for (const url of [a, b, a, b]) {
      const retry = await buy(url, 'unconfirmed');
      expect({ url, status: retry.status }).toEqual({ url, status: 503 });
      expect(retry.body).toMatchObject({ code: 'purchase_outcome_unknown' });
    }

    pauseReplica(false);
    const answer = await buyUntilConfirmed(b, 'unconfirmed');
    expect(answer.status).toBe(200);
    expect(answer.headers['idempotent-replayed']).toBe('true');
    const again = await buyUntilConfirmed(a, 'unconfirmed');
    expect(again.status).toBe(200);
    expect(again.body).toEqual(answer.body);

    // one order for the key, however many retries: three units sold in all
    const keys = skuKeys(sku);
    const [stock, orders] = await withRedis(primary.port, (redis) =>
      Promise.all([redis.get(keys.stock), redis.xrange(keys.orders, '-', '+')]),
    );
    expect(stock).toBe('7');
    expect(orders.map(([, fields]) => fields[fields.indexOf('k') + 1])).toEqual([
      'confirmed-on-a',
      'confirmed-on-b',
      'unconfirmed',
    ]);
  });
});
