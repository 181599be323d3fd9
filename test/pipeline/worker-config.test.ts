import { ConfigError } from '../../app/env/parse-env';
import { loadWorkerConfig } from '../../app/pipeline/worker-config';

describe('the worker configuration', () => {
  const base = { DATABASE_URL: 'postgres://app:s%40cret@db.internal:5432/shop' };

  it('when only DATABASE_URL is set, then the defaults make a working worker', () => {
    expect(loadWorkerConfig(base)).toMatchObject({
      port: 3001,
      batchSize: 1000,
      claimIdleMs: 30_000,
      retentionMs: 600_000,
      reportEveryMs: 30_000,
      redis: { url: 'redis://127.0.0.1:6379', mode: 'standalone' },
      database: { url: base.DATABASE_URL, poolSize: 4, statementTimeoutMs: 10_000 },
    });
  });

  it('when NODE_ENV=production, then it needs no ADMIN_TOKEN (it serves no admin route)', () => {
    expect(loadWorkerConfig({ ...base, NODE_ENV: 'production' }).env).toBe('production');
  });

  it.each([
    ['DATABASE_URL', {}],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://db/shop' }],
    ['WORKER_BATCH_SIZE', { ...base, WORKER_BATCH_SIZE: '0' }],
    ['WORKER_BATCH_SIZE', { ...base, WORKER_BATCH_SIZE: '1e3' }],
    ['WORKER_CLAIM_IDLE_MS', { ...base, WORKER_CLAIM_IDLE_MS: 'soon' }],
    ['REDIS_ORDER_RETENTION_MS', { ...base, REDIS_ORDER_RETENTION_MS: '-1' }],
    ['REDIS_URL', { ...base, REDIS_URL: 'http://cache' }],
  ])('when %s is bad, then start-up stops with a message naming it', (name, env) => {
    let error: unknown;
    try {
      loadWorkerConfig(env);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(`${name}:`);
  });
});
