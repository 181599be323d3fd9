import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createLogger } from '../app/observability/logger';
import { Metrics } from '../app/observability/metrics';
import { bulkhead } from '../app/http/middleware/bulkhead';
import { errorHandler } from '../app/http/problem';
import { send } from './support/http-client';

describe('the bulkhead in front of the catalogue listing', () => {
  it('when more requests come than it runs and queues, then the extra ones get 503 server_busy, and the others all run, one at a time', async () => {
    let running = 0;
    let most = 0;
    const gates: (() => void)[] = [];
    const app = express();
    app.get('/slow', bulkhead({ concurrent: 1, queue: 2 }), async (_req, res) => {
      running += 1;
      most = Math.max(most, running);
      await new Promise<void>((resolve) => gates.push(resolve));
      running -= 1;
      res.json({ ok: true });
    });
    app.use(errorHandler(createLogger('silent', 'bulkhead'), new Metrics(false)));
    const server = createServer(app).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const answers = Array.from({ length: 5 }, () => send(url, { method: 'GET', path: '/slow' }));
      // one running, two waiting: the fourth and the fifth are turned away at once
      const refused = await Promise.all(answers.slice(3));
      for (const answer of refused) {
        expect(answer).toMatchObject({ status: 503, body: { code: 'server_busy' } });
        expect(answer.headers?.get('retry-after')).toBe('1');
      }
      for (let released = 0; released < 3; released += 1) {
        while (gates.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
        gates.shift()?.();
      }
      expect((await Promise.all(answers.slice(0, 3))).map((a) => a.status)).toEqual([200, 200, 200]);
      expect(most).toBe(1);
    } finally {
      server.close();
    }
  });
});
