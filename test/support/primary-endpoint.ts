import { once } from 'node:events';
import { createConnection, createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { withRedis } from '../../attack/local/with-redis';

/**
 * The local stand-in for ElastiCache's primary endpoint: a TCP forwarder that sends each new connection to
 * whichever node answers ROLE as master at that moment (the endpoint's DNS name follows the primary), and
 * leaves connections already open where they are, as a failover on ElastiCache does.
 */
export interface PrimaryEndpoint {
  readonly port: number;
  readonly url: string;
  /** connections forwarded so far, by the node's port */
  readonly forwarded: ReadonlyMap<number, number>;
  stop(): Promise<void>;
}

async function currentPrimary(nodePorts: readonly number[]): Promise<number | undefined> {
  for (const port of nodePorts) {
    const role = await withRedis(port, (redis) => redis.call('ROLE') as Promise<[string]>).catch(() => [
      'unreachable',
    ]);
    if (role[0] === 'master') return port;
  }
  return undefined;
}

export async function startPrimaryEndpoint(nodePorts: readonly number[]): Promise<PrimaryEndpoint> {
  const forwarded = new Map<number, number>();
  const sockets = new Set<Socket>();
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  const server = createServer((client) => {
    track(client);
    client.pause();
    void currentPrimary(nodePorts).then((port) => {
      if (port === undefined) {
        client.destroy();
        return;
      }
      forwarded.set(port, (forwarded.get(port) ?? 0) + 1);
      const upstream = createConnection({ host: '127.0.0.1', port });
      track(upstream);
      for (const socket of [client, upstream]) {
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
      client.resume();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    forwarded,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}
