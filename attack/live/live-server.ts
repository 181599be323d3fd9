import { createServer } from 'node:http';
import type { ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { livePage } from './live-page';

/**
 * The live page's server: node:http on 127.0.0.1 (a free port unless one is asked for), one page at `/`
 * and its server-sent events at `/events`. Each event carries the whole screen, rendered here by the same
 * code as the report, so the page only swaps it in. A page that connects late gets the latest screen at
 * once; the last one is marked final, and the page then stops listening.
 */
export interface LiveServer {
  readonly url: string;
  /** sends a screen to every page now connected, and keeps it for the ones still to come */
  publish(event: LiveEvent): void;
  /** ends every event stream and closes the server */
  close(): Promise<void>;
}

export interface LiveEvent {
  /** `final` once the harness has nothing more to show */
  readonly phase: 'running' | 'final';
  /** the screen's HTML, escaped where it holds outside values */
  readonly html: string;
}

/** keeps proxies and browsers from giving up on a quiet stream (the fleet can take seconds to start) */
const HEARTBEAT_MS = 10_000;

export async function startLiveServer(
  options: { readonly port?: number; readonly title?: string } = {},
): Promise<LiveServer> {
  const streams = new Set<ServerResponse>();
  let latest: LiveEvent | undefined;
  const page = livePage(options.title ?? 'Flash sale, live');

  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/') {
      response.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        // the page needs nothing but itself and its event stream
        'content-security-policy':
          "default-src 'none'; connect-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'",
      });
      response.end(page);
      return;
    }
    if (path === '/events') {
      response.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      response.write('retry: 1000\n\n');
      if (latest) response.write(frame(latest));
      streams.add(response);
      request.on('close', () => streams.delete(response));
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  const heartbeat = setInterval(() => {
    for (const stream of streams) stream.write(': still here\n\n');
  }, HEARTBEAT_MS);
  heartbeat.unref();

  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/`,
    publish(event) {
      latest = event;
      const data = frame(event);
      for (const stream of streams) stream.write(data);
    },
    async close() {
      clearInterval(heartbeat);
      for (const stream of streams) stream.end();
      streams.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}

/** one server-sent event; JSON keeps the HTML on a single `data:` line */
function frame(event: LiveEvent): string {
  return `event: screen\ndata: ${JSON.stringify(event)}\n\n`;
}
