import { once } from 'node:events';
import { createConnection, createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A TCP proxy in front of Redis that loses or delays answers: every command reaches Redis and runs, but
 * while armed, each chunk Redis sends back is dropped with probability `dropRate`, and the connection
 * with it (client and upstream both closed). To the service this is a purchase whose answer never came.
 * Slowed down, every answer is held for a while before it is passed on, in order: a node (or a sentinel)
 * that is alive but slow, as one is on an overloaded machine.
 */
export interface LossyProxy {
  readonly port: number;
  readonly url: string;
  /** answers dropped so far */
  dropped(): number;
  arm(dropRate: number): void;
  disarm(): void;
  /** from now on, hold each answer this long before passing it on (0: at once) */
  slowDown(delayMs: number): void;
  stop(): Promise<void>;
}

export async function startLossyProxy(
  targetPort: number,
  random: () => number = Math.random,
): Promise<LossyProxy> {
  let dropRate = 0;
  let dropped = 0;
  let delayMs = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (dropRate > 0 && random() < dropRate) {
        dropped += 1;
        client.destroy();
        upstream.destroy();
        return;
      }
      // equal delays fire in the order they were set: the answers stay in order
      if (delayMs > 0) setTimeout(() => client.write(chunk), delayMs);
      else client.write(chunk);
    });
    upstream.on('end', () => {
      if (delayMs > 0) setTimeout(() => client.end(), delayMs);
      else client.end();
    });
    client.on('end', () => upstream.end());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dropped: () => dropped,
    arm: (rate) => {
      dropRate = rate;
    },
    disarm: () => {
      dropRate = 0;
    },
    slowDown: (ms) => {
      delayMs = ms;
    },
    stop: async () => {
      const closed = once(server, 'close');
      server.close();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
