import { escapeHtml, renderHtmlReport } from '../report-html';
import { WHAT_IT_DOES } from '../report/first-screen';
import { formatTable, formatVerdict } from '../report-table';
import { readBackFigures, safeHeld } from '../run-result';
import type { AttackReport, RunResult } from '../run-result';

const VOID = new Set(['meta', 'br', 'hr', 'img', 'input', 'link']);

/**
 * A strict well-formedness check: a doctype, one html root, every element closed in the order it was
 * opened (void and self-closed ones aside), attributes quoted. Stricter than HTML5 needs, which is the
 * point: a stray '<' from an unescaped value or a missing close tag fails it.
 */
function checkWellFormed(html: string): string[] {
  const problems: string[] = [];
  if (!html.startsWith('<!DOCTYPE html>')) problems.push('no doctype');
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][A-Za-z0-9-]*)((?:\s+[A-Za-z][A-Za-z0-9:-]*="[^"<>]*")*)\s*(\/?)>/y;
  let i = html.indexOf('>') + 1;
  while (i < html.length) {
    const next = html.indexOf('<', i);
    if (next < 0) break;
    tag.lastIndex = next;
    const match = tag.exec(html);
    if (!match) {
      problems.push(`bad markup at ${next}: ${html.slice(next, next + 40)}`);
      i = next + 1;
      continue;
    }
    const [, closing, name = '', , selfClosing] = match;
    const lower = name.toLowerCase();
    if (closing) {
      const open = stack.pop();
      if (open !== lower) problems.push(`</${lower}> closes <${String(open)}>`);
    } else if (!selfClosing && !VOID.has(lower)) {
      stack.push(lower);
    }
    i = tag.lastIndex;
  }
  if (stack.length > 0) problems.push(`unclosed: ${stack.join(', ')}`);
  return problems;
}

function run(overrides: Partial<RunResult> & Pick<RunResult, 'mode'>): RunResult {
  return {
    sold: 100,
    soldOut: 1900,
    errors: {},
    finalStock: 0,
    orders: 100,
    oversold: 0,
    lostUpdates: 0,
    durationMs: 2345,
    requestsPerSecond: 853,
    latencyMs: { p50: 41.5, p95: 97.25, p99: 180.75, max: 260 },
    endpoint: `/purchase/${overrides.mode}`,
    stock: 100,
    sent: 2000,
    answered: 2000,
    transportErrors: 0,
    timeouts: 0,
    unitsInLog: 100,
    statuses: { '200': 100, '409': 1900 },
    conserved: true,
    soldByInstance: { 'instance-1': 52, 'instance-2': 48 },
    answersByInstance: { 'instance-1': 1000, 'instance-2': 1000 },
    timeline: { bucketMs: 50, sold: [60, 40, 0, 0] },
    interrupted: false,
    ...overrides,
  };
}

function report(runs: AttackReport['runs'], sku = 'flash-sale-demo'): AttackReport {
  return {
    target: 'http://127.0.0.1:3000',
    sku,
    stock: 100,
    requests: 2000,
    connections: 100,
    users: 0,
    startedAt: '2025-01-01T00:00:00.000Z',
    runs,
    safeHeld: safeHeld(runs),
  };
}

const unsafe = run({
  mode: 'unsafe',
  sold: 1873,
  soldOut: 127,
  orders: 1873,
  unitsInLog: 1873,
  oversold: 1773,
  lostUpdates: 1773,
  conserved: false,
  statuses: { '200': 1873, '409': 127 },
  soldByInstance: { 'instance-1': 941, 'instance-2': 932 },
  timeline: { bucketMs: 100, sold: [400, 700, 500, 273] },
});
const safe = run({ mode: 'safe' });

describe('the HTML report', () => {
  const html = renderHtmlReport(report({ unsafe, safe }));

  it('when markup is broken, then the well-formedness check says where', () => {
    expect(checkWellFormed('<!DOCTYPE html><html><p>1 < 2</p></html>')).toEqual([
      'bad markup at 26: < 2</p></html>',
    ]);
    expect(checkWellFormed('<!DOCTYPE html><html><td></tr></html>')).toContain('</tr> closes <td>');
    expect(checkWellFormed('<!DOCTYPE html><html><b>')).toContain('unclosed: html, b');
  });

  it('when both runs are reported, then the page is well-formed HTML', () => {
    expect(checkWellFormed(html)).toEqual([]);
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('<meta charset="utf-8"/>');
  });

  it('when both runs are reported, then it holds both runs’ figures in the table', () => {
    const rows = [
      ...html.matchAll(
        /<tr><th scope="row">([^<]+)<\/th><td[^>]*>([^<]*)<\/td><td[^>]*>([^<]*)<\/td><\/tr>/g,
      ),
    ];
    const byLabel = Object.fromEntries(rows.map(([, label = '', a, b]) => [label, [a, b]]));
    expect(byLabel['sold (200)']).toEqual(['1873', '100']);
    expect(byLabel.OVERSOLD).toEqual(['1773', '0']);
    expect(byLabel['lost updates']).toEqual(['1773', '0']);
    expect(byLabel['orders in the log']).toEqual(['1873', '100']);
    expect(byLabel['stock = final + log']).toEqual(['NO (100 ≠ 0 + 1873)', 'yes (100 = 0 + 100)']);
    expect(byLabel['latency p50/p95/p99']).toEqual(['41.5 / 97.25 / 180.75 ms', '41.5 / 97.25 / 180.75 ms']);
    expect(byLabel['sales per instance']).toEqual([
      'instance-1: 941, instance-2: 932',
      'instance-1: 52, instance-2: 48',
    ]);
  });

  it('when both runs are reported, then it charts sold vs stock and the sales over time of each', () => {
    expect(html).toContain('Sold vs stock');
    expect(html).toContain('Sales over time');
    expect(html.match(/<svg /g)).toHaveLength(2);
    // one sales line per run, ending at what each sold
    expect(html.match(/<polyline /g)).toHaveLength(2);
    expect(html).toContain('>unsafe 1873</text>');
    expect(html).toContain('>safe 100</text>');
    expect(html).toContain('<title>sold 1873</title>');
    expect(html).toContain('<title>stock 100</title>');
  });

  it('when it opens, then its first screen is one card per endpoint: what it does, its verdict and its figures', () => {
    const cards = [...html.matchAll(/<section class="card (\w+)" data-mode="(\w+)" data-state="done">/g)];
    expect(cards.map(([, tone, mode]) => [mode, tone])).toEqual([
      ['unsafe', 'bad'],
      ['safe', 'good'],
    ]);
    expect(html).toContain(`<p class="what">${escapeHtml(WHAT_IT_DOES.unsafe)}</p>`);
    expect(html).toContain(`<p class="what">${escapeHtml(WHAT_IT_DOES.safe)}</p>`);
    expect(WHAT_IT_DOES.unsafe).toMatch(/^read, decide, write: three round trips/);
    expect(WHAT_IT_DOES.safe).toMatch(/^one atomic Lua script/);
    expect(html).toContain('<span class="badge bad">✗ OVERSOLD</span>');
    expect(html).toContain('<span class="badge good">✓ HELD</span>');
    // the cards and the charts come before the table
    expect(html.indexOf('class="cards"')).toBeLessThan(html.indexOf('class="charts"'));
    expect(html.indexOf('class="charts"')).toBeLessThan(html.indexOf('<table>'));
  });

  it('when the unsafe run left stock that does not add up, then nothing about it is coloured good', () => {
    const leftover = run({ ...unsafe, mode: 'unsafe', finalStock: 43, lostUpdates: 1816 });
    const page = renderHtmlReport(report({ unsafe: leftover, safe }));
    expect(page).toMatch(/<th scope="row">final stock<\/th><td class="bad">43<\/td>/);
    expect(page).toContain(
      '<div class="figure bad" data-figure="stock-left"><div class="label">stock left</div><div class="value">43</div><div class="note">✗ 100 ≠ 43 left + 1,873 sold</div>',
    );
    const unsafeCard = /<section class="card \w+" data-mode="unsafe"[^]*?<\/section>/.exec(page)?.[0] ?? '';
    expect(unsafeCard).not.toContain('good');
    // and the colour is never alone: the table's cells carry a mark, the figures their words
    expect(page).toContain('td.bad::before { content: "✗ "; }');
  });

  it('when opened offline, then it needs nothing from the network: no script, no link, no external URL', () => {
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(/i);
    expect(html).not.toMatch(/(src|href)=/i);
  });

  it('when values come from outside (SKU, instance ids), then they are escaped, not markup', () => {
    const hostile = run({ mode: 'safe', soldByInstance: { '<script>alert(1)</script>': 100 } });
    const page = renderHtmlReport(report({ safe: hostile }, 'x"><img src=x>'));
    expect(checkWellFormed(page)).toEqual([]);
    expect(page).not.toContain('<script>');
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;: 100');
    expect(page).toContain('x&quot;&gt;&lt;img src=x&gt;');
    expect(escapeHtml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;');
  });
});

describe('the terminal table', () => {
  it('when piped, then it is plain text with a column per run', () => {
    const text = formatTable(report({ unsafe, safe }), { color: false });
    expect(text).not.toContain('\x1b[');
    expect(text).toMatch(/^OVERSOLD +\| 1773 +\| 0$/m);
    expect(text).toMatch(/^sold \(200\) +\| 1873 +\| 100$/m);
    expect(formatVerdict(report({ unsafe, safe }), { color: false })).toBe(
      'unsafe sold 1873 of 100: oversold by 1773; safe sold 100 of 100, never more: invariants held\n',
    );
  });

  it('when the unsafe endpoint is off on the target (404 to every purchase), then the verdict says so', () => {
    const off = run({
      mode: 'unsafe',
      sold: 0,
      soldOut: 0,
      errors: { '404': 2000 },
      statuses: { '404': 2000 },
      finalStock: 100,
      orders: 0,
      unitsInLog: 0,
      lostUpdates: 0,
      soldByInstance: {},
    });
    expect(formatVerdict(report({ unsafe: off, safe }), { color: false })).toBe(
      'unsafe endpoint is off on this target (404 to every purchase: UNSAFE_ENDPOINT=off, the production default); ' +
        'safe sold 100 of 100, never more: invariants held\n',
    );
  });

  it('when on a terminal, then the broken figures are red and the held ones green', () => {
    const text = formatTable(report({ unsafe, safe }), { color: true });
    expect(text).toContain('\x1b[31m1773\x1b[0m');
    expect(text).toContain('\x1b[32m0\x1b[0m');
  });
});

describe('the verdict behind the exit code', () => {
  it('when the safe run sold its stock and conservation held, then it held', () => {
    expect(safeHeld({ safe })).toBe(true);
  });

  it('when the safe run sold more than its stock, or conservation broke, then it did not hold', () => {
    expect(safeHeld({ safe: run({ mode: 'safe', sold: 101, oversold: 1 }) })).toBe(false);
    expect(safeHeld({ safe: run({ mode: 'safe', conserved: false }) })).toBe(false);
  });

  // 103 units in the log, stock at -3, but 5 of those 200s were lost to client timeouts: 98 answers said
  // 200. Conserved (100 = -3 + 103), and 98 <= 100: the two checks the verdict once had both pass.
  const lostAnswers = { currentStock: -3, initialStock: 100, unitsInLog: 103, orders: 103 };
  const negative = run({
    mode: 'safe',
    sold: 98,
    timeouts: 5,
    transportErrors: 5,
    ...readBackFigures(100, 98, lostAnswers),
  });

  it('when 5 of the safe run’s 200s were lost to timeouts and the stock went to -3, then it did not hold', () => {
    expect(negative.conserved).toBe(true);
    expect(safeHeld({ safe: negative })).toBe(false);
  });

  it('when the order log holds more units than the 200s said, then OVERSOLD counts the log, everywhere it is shown', () => {
    expect(readBackFigures(100, 98, lostAnswers)).toMatchObject({
      oversold: 3,
      finalStock: -3,
      unitsInLog: 103,
    });
    // and the answers still count when they say more than the log (the unsafe endpoint's lost writes)
    expect(readBackFigures(100, 150, { ...lostAnswers, currentStock: 0, unitsInLog: 90 }).oversold).toBe(50);

    const shown = report({ safe: negative });
    expect(formatTable(shown, { color: false })).toMatch(/^OVERSOLD +\| 3$/m);
    expect(formatTable(shown, { color: true })).toContain('\x1b[31m-3\x1b[0m');
    expect(formatVerdict(shown, { color: false })).toBe(
      'safe BROKE an invariant (sold 98 of 100, 103 units in the log, final stock -3, conserved: true)\n',
    );
    expect(renderHtmlReport(shown)).toContain(
      '<div class="figure bad" data-figure="oversold"><div class="label">oversold</div><div class="value">3</div>',
    );
    // the same on the unsafe side: the sentence adds up
    const unsafeLost = run({ mode: 'unsafe', sold: 98, ...readBackFigures(100, 98, lostAnswers) });
    expect(formatVerdict(report({ unsafe: unsafeLost }), { color: false })).toBe(
      'unsafe sold 98 of 100 (103 units in its log): oversold by 3\n',
    );
  });

  it('when there was no safe run, or it could not be read back, then there is nothing to judge', () => {
    expect(safeHeld({ unsafe })).toBeNull();
    expect(safeHeld({ safe: run({ mode: 'safe', conserved: null }) })).toBeNull();
  });
});
