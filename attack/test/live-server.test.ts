import { request } from 'node:http';
import { startLiveServer } from '../live/live-server';
import type { LiveServer } from '../live/live-server';
import { stormFeed } from '../live/storm-feed';
import type { LiveEvent } from '../live/live-server';
import type { RunProgress } from '../run-attack';

/** Reads server-sent events from `url` until `count` have arrived; returns them and the headers. */
function readEvents(
  url: string,
  count: number,
): Promise<{ events: LiveEvent[]; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const events: LiveEvent[] = [];
    const req = request(url, (res) => {
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (/^event: screen$/m.test(frame) && data) events.push(JSON.parse(data) as LiveEvent);
          if (events.length >= count) {
            req.destroy();
            resolve({ events, headers: res.headers });
            return;
          }
          end = buffer.indexOf('\n\n');
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

async function get(url: string, method = 'GET'): Promise<{ status: number; body: string; headers: Headers }> {
  const response = await fetch(url, { method });
  return { status: response.status, body: await response.text(), headers: response.headers };
}

describe('the live page’s server', () => {
  let server: LiveServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('when started, then it listens on 127.0.0.1 and serves a page that needs nothing from the network', async () => {
    server = await startLiveServer();
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await get(server.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page.body).toContain("new EventSource('events')");
    expect(page.body).not.toMatch(/(src|href)=|@import|url\(|https?:\/\/(?!localhost)/i);
    expect((await get(`${server.url}nothing`)).status).toBe(404);
    const post = await get(server.url, 'POST');
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
  });

  it('when screens are published, then a page connected gets each, and one connecting late gets the latest at once', async () => {
    const live = await startLiveServer();
    server = live;
    const early = readEvents(`${live.url}events`, 2);
    // the stream is open once the server counts it: publish after a first round trip
    await new Promise((resolve) => setTimeout(resolve, 100));
    live.publish({ phase: 'running', html: '<p>one</p>' });
    live.publish({ phase: 'final', html: '<p>two</p>' });
    const { events, headers } = await early;
    expect(headers['content-type']).toBe('text/event-stream');
    expect(events).toEqual([
      { phase: 'running', html: '<p>one</p>' },
      { phase: 'final', html: '<p>two</p>' },
    ]);
    const late = await readEvents(`${live.url}events`, 1);
    expect(late.events).toEqual([{ phase: 'final', html: '<p>two</p>' }]);
  });
});

describe('the storm’s feed to the live page', () => {
  const progress = (sold: number, elapsedMs: number): RunProgress => ({
    mode: 'unsafe',
    requests: 2000,
    answered: sold,
    sold,
    soldOut: 0,
    failed: 0,
    elapsedMs,
    stock: 100,
    stockLeft: 61,
    salesPerSecond: 840,
    latencyMs: { p50: 12.5, p95: 40, p99: 88.25 },
    answersByInstance: { 'instance-1': 70, 'instance-2': 65 },
  });

  it('when the unsafe run sells past its stock, then its card counts the oversold units up, in red, with words beside them', () => {
    const published: LiveEvent[] = [];
    const feed = stormFeed(
      { publish: (event) => published.push(event) },
      { modes: ['unsafe', 'safe'], sku: 'demo', stock: 100, requests: 2000, connections: 50 },
      'http://127.0.0.1:3000',
    );
    expect(published[0]?.html).toContain('data-mode="safe" data-state="waiting"');
    feed.progress(progress(135, 300));
    const html = published[published.length - 1]?.html ?? '';
    expect(html).toContain('data-mode="unsafe" data-state="running"');
    expect(html).toContain(
      '<div class="figure bad" data-figure="oversold"><div class="label">oversold</div><div class="value">35</div><div class="note">✗ units that never existed</div>',
    );
    expect(html).toContain('<b>840</b> sales/s · latency ms p50 <b>13</b> · p95 <b>40</b> · p99 <b>88</b>');
    expect(html).toContain('answers per instance: instance-1 70 · instance-2 65');
    // at most four screens a second: the next tick, 100 ms on, is not sent
    const count = published.length;
    feed.progress(progress(150, 400));
    expect(published).toHaveLength(count);
  });
});
