import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Page } from 'playwright-core';
import { testDatabaseUrl } from '../../test/support/database';
import { testRedisUrl, uniqueSku } from '../../test/support/fixtures';
import { launchBrowser, VIEWPORT } from './browser';
import type { Browser } from './browser';
import { ROOT, runCli } from './cli-process';
import type { CliRun } from './cli-process';

/**
 * The live page in a real browser: Debian's chromium, driven by playwright-core, watching a real (small)
 * `npm run demo -- --live`. The screenshots it takes are the README's.
 */
jest.setTimeout(240_000);

const IMAGES = join(ROOT, 'docs', 'images');

/** the part of an element the viewport does not show, in pixels: 0 when all of it is on screen */
async function offScreen(page: Page, selector: string): Promise<Record<string, number>> {
  const boxes = await Promise.all(
    (await page.locator(selector).all()).map(async (element) => {
      const box = await element.boundingBox();
      if (!box) throw new Error(`${selector} is not rendered`);
      return { left: box.x, top: box.y, right: box.x + box.width, bottom: box.y + box.height };
    }),
  );
  if (boxes.length === 0) throw new Error(`nothing matches ${selector}`);
  return Object.fromEntries(
    boxes.map((box, i) => [
      `${selector} #${i}`,
      Math.max(0, -box.left, -box.top, box.right - VIEWPORT.width, box.bottom - VIEWPORT.height),
    ]),
  );
}

/** every big verdict number and badge of the first screen */
const VERDICT = [
  '.card .badge',
  '.card [data-figure="oversold"] .value',
  '.card [data-figure="sold"] .value',
];

describe('the live page, in chromium at 1280×720', () => {
  let browser: Browser | undefined;
  let demo: CliRun | undefined;
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'flash-sale-live-'));
  });
  afterEach(async () => {
    if (demo && demo.child.exitCode === null && demo.child.signalCode === null) {
      demo.child.kill('SIGINT');
      const gone = await Promise.race([demo.exited.then(() => true), sleep(20_000).then(() => false)]);
      if (!gone) demo.child.kill('SIGKILL');
    }
    demo = undefined;
    await browser?.close();
    browser = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('when a demo runs with --live, then the page follows the run and ends on the report’s first screen, verdict above the fold', async () => {
    browser = await launchBrowser();
    const { page } = browser;
    const reportFile = join(dir, 'demo.html');
    const run = runCli(
      'demo',
      [
        '--live',
        '--sku',
        uniqueSku('live'),
        '--stock',
        '100',
        '--requests',
        '1500',
        '--connections',
        '50',
        '--warmup',
        '50',
        '--json',
        join(dir, 'demo.json'),
        '--report',
        reportFile,
      ],
      { REDIS_URL: testRedisUrl(), DATABASE_URL: testDatabaseUrl() },
    );
    demo = run;

    // the URL comes first, before Redis and the fleet
    const deadline = Date.now() + 60_000;
    let url: string | undefined;
    while (url === undefined && run.child.exitCode === null && Date.now() < deadline) {
      url = /^live: (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(run.stderr())?.[1];
      if (url === undefined) await sleep(50);
    }
    expect({ url: url !== undefined, stderr: url === undefined ? run.stderr() : '' }).toEqual({
      url: true,
      stderr: '',
    });
    await page.goto(url ?? '');

    // live: an endpoint's card running, its figures moving
    await page.waitForSelector('section.card[data-state="running"]', { timeout: 120_000 });
    await page.waitForSelector('body[data-phase="final"]', { timeout: 180_000 });
    const events = Number(await page.locator('body').getAttribute('data-events'));
    expect(events).toBeGreaterThan(2);

    expect(await page.locator('section.card[data-mode="safe"] .badge').textContent()).toBe('✓ HELD');
    expect(
      await page.locator('section.card[data-mode="safe"] [data-figure="oversold"] .value').textContent(),
    ).toBe('0');
    expect(
      await Promise.all(
        (await page.locator('section.card').all()).map((card) => card.getAttribute('data-state')),
      ),
    ).toEqual(['done', 'done']);
    for (const selector of VERDICT) {
      expect(Object.values(await offScreen(page, selector)).every((pixels) => pixels === 0)).toBe(true);
    }
    const liveScreen = await page.locator('#screen').innerHTML();
    mkdirSync(IMAGES, { recursive: true });
    await page.screenshot({ path: join(IMAGES, 'live-page.png') });

    const code = await run.exited;
    expect({ code, stderr: code === 0 ? '' : run.stderr() }).toEqual({ code: 0, stderr: '' });

    // the report opens on the very screen the live page ended on
    await page.goto(pathToFileURL(reportFile).href);
    expect(await page.locator('#screen').innerHTML()).toBe(liveScreen);
    for (const selector of VERDICT) {
      expect(Object.values(await offScreen(page, selector)).every((pixels) => pixels === 0)).toBe(true);
    }
    await page.screenshot({ path: join(IMAGES, 'report.png') });
  });
});
