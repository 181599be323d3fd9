import { setTimeout as sleep } from 'node:timers/promises';
import { openInBrowser } from './open-browser';
import { startLiveServer } from './live-server';
import type { LiveServer } from './live-server';

/** time for the final screen to reach the pages before the server goes */
const FLUSH_MS = 300;

/**
 * `--live` / `--open` for both CLIs: the page's server, its URL on the terminal (always: --open may find
 * no browser to open), and a close that lets the last screen go out first.
 */
export async function startLive(
  stderr: NodeJS.WritableStream,
  options: { readonly open: boolean; readonly title: string },
): Promise<LiveServer> {
  const server = await startLiveServer({ title: options.title });
  stderr.write(`live: ${server.url}\n`);
  if (options.open) openInBrowser(server.url);
  return {
    url: server.url,
    publish: (event) => {
      server.publish(event);
    },
    close: async () => {
      await sleep(FLUSH_MS);
      await server.close();
    },
  };
}
