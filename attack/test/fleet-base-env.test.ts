import { fleetBaseEnv } from '../local/fleet';

/** What a local fleet inherits from the shell that started it. */
const shell = {
  PATH: '/usr/bin',
  REDIS_URL: 'redis://cache.example:6380',
  REDIS_MODE: 'cluster',
  REDIS_NODES: '127.0.0.1:1',
  REDIS_PASSWORD: 'users-password',
  REDIS_WAIT_REPLICAS: '1',
};

describe("the fleet's inherited environment", () => {
  it('when the fleet is on a Redis the harness started, then none of the shell’s REDIS_* variables reach it', () => {
    expect(fleetBaseEnv(shell, false)).toEqual({ PATH: '/usr/bin' });
  });

  it('when the user named the Redis (REDIS_URL), then their REDIS_* settings go with it', () => {
    expect(fleetBaseEnv(shell, true)).toEqual(shell);
  });
});
