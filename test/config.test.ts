import { ConfigError, loadConfig } from '../app/config';

describe('configuration', () => {
  it('when nothing is set, then the defaults make a working development service', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      env: 'development',
      port: 3000,
      unsafeEndpoint: true,
      defaultSku: 'default',
      maxQuantity: 10,
      shutdownDrainMs: 0,
      redis: { mode: 'standalone', url: 'redis://127.0.0.1:6379', tls: false, waitReplicas: 0 },
    });
  });

  it('when NODE_ENV=production, then the unsafe endpoint is off, draining is on, and ADMIN_TOKEN is required', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(
      /ADMIN_TOKEN: is required when NODE_ENV=production/,
    );
    const config = loadConfig({ NODE_ENV: 'production', ADMIN_TOKEN: 'x'.repeat(32) });
    expect(config.unsafeEndpoint).toBe(false);
    expect(config.shutdownDrainMs).toBe(5000);
    expect(
      loadConfig({ NODE_ENV: 'production', ADMIN_TOKEN: 'x'.repeat(32), UNSAFE_ENDPOINT: 'on' })
        .unsafeEndpoint,
    ).toBe(true);
  });

  it('when the rate limits are not set, then they are off outside production and on in production', () => {
    expect(loadConfig({}).admission).toEqual({ perUser: 0, perIp: 0, windowMs: 60_000, trustProxy: 0 });
    expect(loadConfig({ NODE_ENV: 'production', ADMIN_TOKEN: 'x'.repeat(32) }).admission).toEqual({
      perUser: 10,
      perIp: 100,
      windowMs: 60_000,
      trustProxy: 0,
    });
    expect(
      loadConfig({
        NODE_ENV: 'production',
        ADMIN_TOKEN: 'x'.repeat(32),
        RATE_LIMIT_PER_USER: '0',
        RATE_LIMIT_PER_IP: '20',
        RATE_LIMIT_WINDOW_MS: '10000',
        TRUST_PROXY: '1',
      }).admission,
    ).toEqual({ perUser: 0, perIp: 20, windowMs: 10_000, trustProxy: 1 });
  });

  it('when a rediss:// URL carries credentials, then TLS is on and they are used', () => {
    const config = loadConfig({ REDIS_URL: 'rediss://app:s%40cret@cache.internal:6380' });
    expect(config.redis).toMatchObject({
      tls: true,
      username: 'app',
      password: 's@cret',
      nodes: [{ host: 'cache.internal', port: 6380 }],
    });
  });

  it('when cluster seeds are listed, then they are parsed', () => {
    const config = loadConfig({ REDIS_MODE: 'cluster', REDIS_NODES: 'a:7000, b:7001' });
    expect(config.redis.nodes).toEqual([
      { host: 'a', port: 7000 },
      { host: 'b', port: 7001 },
    ]);
  });

  it.each([
    ['PORT', { PORT: 'eighty' }],
    ['PORT', { PORT: '70000' }],
    ['PORT', { PORT: ' ' }],
    ['PORT', { PORT: '0x50' }],
    ['REDIS_WAIT_REPLICAS', { REDIS_WAIT_REPLICAS: '1e1' }],
    ['SHUTDOWN_TIMEOUT_MS', { SHUTDOWN_TIMEOUT_MS: '5000.5' }],
    ['REDIS_URL', { REDIS_URL: 'http://localhost:6379' }],
    ['REDIS_MODE', { REDIS_MODE: 'replicated' }],
    ['REDIS_NODES', { REDIS_MODE: 'sentinel' }],
    ['REDIS_NODES', { REDIS_MODE: 'cluster', REDIS_NODES: 'nohostport' }],
    ['UNSAFE_ENDPOINT', { UNSAFE_ENDPOINT: 'yes' }],
    ['UNSAFE_DELAY_MS', { UNSAFE_DELAY_MS: '-5' }],
    ['DEFAULT_SKU', { DEFAULT_SKU: 'has space' }],
    ['MAX_QUANTITY', { MAX_QUANTITY: '0' }],
    ['ADMIN_TOKEN', { ADMIN_TOKEN: 'short' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'verbose' }],
    ['RATE_LIMIT_PER_USER', { RATE_LIMIT_PER_USER: '-1' }],
    ['RATE_LIMIT_PER_IP', { RATE_LIMIT_PER_IP: 'lots' }],
    ['RATE_LIMIT_WINDOW_MS', { RATE_LIMIT_WINDOW_MS: '1500' }],
    ['RATE_LIMIT_WINDOW_MS', { RATE_LIMIT_WINDOW_MS: '500' }],
    ['TRUST_PROXY', { TRUST_PROXY: 'true' }],
    ['REDIS_WAIT_TIMEOUT_MS', { REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '500' }],
    [
      'REDIS_WAIT_TIMEOUT_MS',
      { REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '900', REDIS_COMMAND_TIMEOUT_MS: '800' },
    ],
  ])('when %s is bad, then start-up stops with a message naming it', (name, env) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(`${name}:`);
  });

  it('when WAIT is off, then its timeout is not held against the command timeout', () => {
    expect(loadConfig({ REDIS_WAIT_TIMEOUT_MS: '900' }).redis.waitTimeoutMs).toBe(900);
    expect(loadConfig({ REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '499' }).redis.waitTimeoutMs).toBe(
      499,
    );
  });

  it('when METRICS_EMF is on, then the service figures are written every minute unless told otherwise; off by default', () => {
    expect(loadConfig({}).serviceFiguresIntervalMs).toBeUndefined();
    expect(loadConfig({ METRICS_EMF: 'on' }).serviceFiguresIntervalMs).toBe(60_000);
    expect(loadConfig({ METRICS_EMF: 'on', METRICS_EMF_INTERVAL_MS: '10000' }).serviceFiguresIntervalMs).toBe(
      10_000,
    );
    expect(() => loadConfig({ METRICS_EMF: 'yes' })).toThrow(/METRICS_EMF/);
    expect(() => loadConfig({ METRICS_EMF: 'on', METRICS_EMF_INTERVAL_MS: '10' })).toThrow(
      /METRICS_EMF_INTERVAL_MS/,
    );
  });

  it('when a variable is set but empty, then it counts as not set', () => {
    expect(loadConfig({ PORT: '', ADMIN_TOKEN: '' }).port).toBe(3000);
  });
});
