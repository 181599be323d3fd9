import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { TEST_ADMIN_TOKEN, startTestService, uniqueSku } from '../../test/support/fixtures';
import type { TestService } from '../../test/support/fixtures';
import { main } from '../attack';
import { finalScreen, renderScreen } from '../report/first-screen';
import type { AttackReport } from '../run-result';

/** the screens a page would get from `url`, until the final one (or `timeoutMs`) */
async function watch(url: string, timeoutMs: number): Promise<{ phase: string; html: string }[]> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const screens: { phase: string; html: string }[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of response.body ?? []) {
    buffer += decoder.decode(chunk as Uint8Array, { stream: true });
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const data = /^data: (.*)$/m.exec(buffer.slice(0, end))?.[1];
      buffer = buffer.slice(end + 2);
      if (data) screens.push(JSON.parse(data) as { phase: string; html: string });
      if (screens.at(-1)?.phase === 'final') return screens;
    }
  }
  return screens;
}

describe('npm run attack -- --live', () => {
  let svc: TestService;
  let dir: string;
  beforeAll(async () => {
    svc = await startTestService();
    dir = mkdtempSync(join(tmpdir(), 'flash-sale-attack-live-'));
  });
  afterAll(async () => {
    await svc.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when it fires at a running service, then it prints the page’s URL and the page ends on the report’s first screen', async () => {
    const stderr = new PassThrough();
    const stdout = new PassThrough();
    let err = '';
    stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    stdout.resume();
    const jsonFile = join(dir, 'attack.json');
    const exited = main(
      [
        '--target',
        svc.url,
        '--mode',
        'safe',
        '--sku',
        uniqueSku('attack-live'),
        '--stock',
        '20',
        '--requests',
        '400',
        '--connections',
        '10',
        '--json',
        jsonFile,
        '--live',
      ],
      { stdout, stderr, env: { ADMIN_TOKEN: TEST_ADMIN_TOKEN } },
    );
    let url: string | undefined;
    for (let tries = 0; url === undefined && tries < 200; tries += 1) {
      url = /^live: (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(err)?.[1];
      if (url === undefined) await sleep(10);
    }
    expect(url).toBeDefined();
    const screens = await watch(`${url ?? ''}events`, 30_000);
    expect(await exited).toBe(0);

    const report = JSON.parse(readFileSync(jsonFile, 'utf8')) as AttackReport;
    expect(screens.at(-1)).toEqual({ phase: 'final', html: renderScreen(finalScreen(report)) });
    // and the server is gone with the harness
    await expect(fetch(url ?? '')).rejects.toThrow();
  });
});
