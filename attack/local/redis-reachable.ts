import { connect } from 'node:net';

/**
 * Whether something listens at a Redis URL's address: one TCP connection, given `timeoutMs`. Undefined
 * when it does, else why not (ECONNREFUSED, ENOTFOUND, a timeout). It says nothing of the password or
 * TLS: the service's own errors name those. What it spares is a fleet of instances that cannot start,
 * and a user who waits for them.
 */
export async function unreachableRedis(url: string, timeoutMs = 3000): Promise<string | undefined> {
  let host: string;
  let port: number;
  try {
    const parsed = new URL(url);
    host = parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
    port = parsed.port === '' ? 6379 : Number(parsed.port);
  } catch {
    return 'not a URL';
  }
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(timeoutMs);
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(`no answer within ${timeoutMs} ms`);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      resolve(error.code ?? error.message);
    });
  });
}

/** `host:port` of a Redis URL, for a message: never its password */
export function redisAddress(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port === '' ? '6379' : parsed.port}`;
  } catch {
    return 'REDIS_URL';
  }
}
