import { Redis, ReplyError } from 'ioredis';
import { isStoreUnavailable } from '../app/redis/errors';

/** ioredis types ReplyError as any; it is a plain Error subclass taking a message */
const Reply = ReplyError as new (message: string) => Error;
import { testRedisUrl } from './support/fixtures';

describe('which Redis errors are an outage (503) rather than a bug (500)', () => {
  it('when a pipelined command is aborted because its connection closed, then it is an outage', async () => {
    // the real error, from a real connection: a blocked command pipelined behind another, then the
    // connection drops before it is answered
    const redis = new Redis(testRedisUrl(), {
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      retryStrategy: () => null,
    });
    const pending = redis
      .pipeline()
      .ping()
      .blpop(`errors-test-${String(Date.now())}`, 5)
      .exec();
    await new Promise((resolve) => setTimeout(resolve, 100));
    redis.disconnect();
    const failure: unknown = await pending.then(
      (results) => results?.find(([error]) => error !== null)?.[0],
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect(isStoreUnavailable(failure)).toBe(true);
  });

  it.each([
    'Connection is closed.',
    'Command timed out',
    "Stream isn't writeable and enableOfflineQueue options is false",
    'Node is disconnected',
    'Cluster is disconnected.',
    "Cluster isn't ready and enableOfflineQueue options is false",
    'None of startup nodes is available',
    'connect ECONNREFUSED 127.0.0.1:6379',
  ])('when ioredis says "%s", then it is an outage', (message) => {
    expect(isStoreUnavailable(new Error(message))).toBe(true);
  });

  it.each([
    'CLUSTERDOWN The cluster is down',
    "READONLY You can't write against a read only replica.",
    'UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)',
    'NOREPLICAS Not enough good replicas to write.',
  ])('when Redis replies "%s", then it is an outage', (message) => {
    expect(isStoreUnavailable(new Reply(message))).toBe(true);
  });

  it('when Redis refuses a command for good (a script error), then it is not an outage', () => {
    expect(isStoreUnavailable(new Reply('ERR Error running script, user_script:1: bad'))).toBe(false);
    expect(isStoreUnavailable(new TypeError('x is undefined'))).toBe(false);
    expect(isStoreUnavailable('not an error')).toBe(false);
  });
});
