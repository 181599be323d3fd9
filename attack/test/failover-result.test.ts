import { failoverFigures, failoverHeld, recoveredAt, timelineOf } from '../chaos/failover-result';
import type { StormAnswer } from '../chaos/failover-result';
import { formatFailoverTable, renderFailoverReport } from '../report/failover-screen';

const answer = (at: number, status: number, orderId?: string): StormAnswer => ({
  at,
  status,
  instance: 'instance-1',
  ...(orderId === undefined ? {} : { orderId }),
});

// three sales, the primary killed at 1000, 503s, then sales again
const answers = [
  answer(100, 200, 'o1'),
  answer(600, 200, 'o2'),
  answer(1050, 503),
  answer(1400, 503),
  answer(1700, 0),
  answer(2600, 200, 'o3'),
  answer(2700, 200, 'o4'),
];

describe('the failover act’s figures', () => {
  it('when orders answered 200 are missing from the log afterwards, then they are the lost acknowledged writes', () => {
    const run = failoverFigures({
      waitReplicas: 0,
      stock: 1000,
      durationMs: 2800,
      answers,
      // o2 went with the old primary; o9 was written but answered 503
      logOrderIds: new Set(['o1', 'o3', 'o4', 'o9']),
      unitsInLog: 4,
      stockLeft: 996,
      killedAtMs: 1000,
      promotedAtMs: 2400,
    });
    expect(run).toMatchObject({
      answered200: 4,
      ordersInLog: 4,
      lostAcknowledged: 1,
      inLogNotAnswered200: 1,
      oversold: 0,
      conserved: true,
      unavailableDuringFailover: 2,
      statuses: { '0': 1, '200': 4, '503': 2 },
      recoveredAtMs: 2600,
    });
    expect(
      failoverHeld({ startedAt: '', instances: 2, connections: 8, replicationCutMs: 500, runs: [run] }),
    ).toBe(true);
    // with WAIT the same loss breaks the act
    const withWait = { ...run, waitReplicas: 1 };
    expect(
      failoverHeld({ startedAt: '', instances: 2, connections: 8, replicationCutMs: 500, runs: [withWait] }),
    ).toBe(false);
  });

  it('when the stock does not add up or more was sold than stocked, then it did not hold', () => {
    const run = failoverFigures({
      waitReplicas: 1,
      stock: 3,
      durationMs: 2800,
      answers,
      logOrderIds: new Set(['o1', 'o2', 'o3', 'o4']),
      unitsInLog: 4,
      stockLeft: 0,
      killedAtMs: 1000,
      promotedAtMs: 2400,
    });
    expect([run.oversold, run.conserved]).toEqual([1, false]);
    expect(
      failoverHeld({ startedAt: '', instances: 2, connections: 8, replicationCutMs: 500, runs: [run] }),
    ).toBe(false);
  });

  it('when sales never came back, then there is no recovery time', () => {
    expect(recoveredAt(answers.slice(0, 5), 1000)).toBeNull();
    expect(recoveredAt(answers, 1000)).toBe(2600);
  });

  it('when bucketed, then every answer lands in its quarter second, by kind', () => {
    expect(timelineOf(answers, 2800)).toEqual({
      bucketMs: 250,
      ok: [1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0],
      unavailable: [0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0],
      other: [0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0],
    });
  });

  it('when reported, then the page marks the kill and the promotion on the timeline, and the table has both settings', () => {
    const run = (waitReplicas: number, lost: string[]) =>
      failoverFigures({
        waitReplicas,
        stock: 1000,
        durationMs: 2800,
        answers,
        logOrderIds: new Set(['o1', 'o2', 'o3', 'o4'].filter((id) => !lost.includes(id))),
        unitsInLog: 4 - lost.length,
        stockLeft: 996 + lost.length,
        killedAtMs: 1000,
        promotedAtMs: 2400,
      });
    const report = {
      startedAt: '2026-01-01T00:00:00.000Z',
      instances: 2,
      connections: 8,
      replicationCutMs: 500,
      runs: [run(0, ['o2']), run(1, [])],
    };
    const html = renderFailoverReport(report);
    expect(html.match(/>primary killed</g)).toHaveLength(2);
    expect(html.match(/>replica promoted</g)).toHaveLength(2);
    expect(html).toContain('<span class="badge bad">✗ LOST 1 ORDERS</span>');
    expect(html).toContain('<span class="badge good">✓ NOTHING LOST</span>');
    expect(html).not.toMatch(/<script|(src|href)=/i);
    expect(formatFailoverTable(report)).toMatch(/^answered 200, missing afterwards +\| 1 +\| 0$/m);
    expect(formatFailoverTable(report)).toMatch(/^kill → first sale again +\| 1\.6 s +\| 1\.6 s$/m);
  });
});
