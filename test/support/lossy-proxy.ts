import { once } from 'node:events';
import { createConnection, createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A TCP proxy in front of Redis that loses answers: every command reaches Redis and runs, but while
 * armed, each chunk Redis sends back is dropped with probability `dropRate`, and the connection with
 * it (client and upstream both closed). To the service this is a purchase whose answer never came.
 */
export interface LossyProxy {
  readonly port: number;
  readonly url: string;
  /** answers dropped so far */
  dropped(): number;
  arm(dropRate: number): void;
  disarm(): void;
  stop(): Promise<void>;
}

export async function startLossyProxy(
  targetPort: number,
  random: () => number = Math.random,
): Promise<LossyProxy> {
  let dropRate = 0;
  let dropped = 0;
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
      client.write(chunk);
    });
    upstream.on('end', () => client.end());
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
    stop: async () => {
      const closed = once(server, 'close');
      server.close();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
