import type { SkuState } from '../../attack/local/sku-state';

export { readSkuState } from '../../attack/local/sku-state';
export type { LoggedOrder, SkuState } from '../../attack/local/sku-state';

/** Invariants 1 and 2 of the design: no oversell, never negative, stocked = remaining + Σ orders. */
export function expectConserved(state: SkuState): void {
  expect(state.stock).toBeGreaterThanOrEqual(0);
  expect(state.unitsInLog).toBeLessThanOrEqual(state.stocked);
  expect(state.stock + state.unitsInLog).toBe(state.stocked);
}

/**
 * Invariant 3 of the design: every order answered 200 is in the log, and the log holds no order that
 * was not answered 200 to someone. `answered` are the public order ids.
 */
export function expectLogMatchesAnswers(sku: string, state: SkuState, answered: Iterable<string>): void {
  const inLog = new Set(state.orders.map((order) => order.orderId));
  const mine = new Set([...answered].filter((orderId) => orderId.startsWith(`${sku}:`)));
  expect([...mine].filter((orderId) => !inLog.has(orderId))).toEqual([]);
  expect([...inLog].filter((orderId) => !mine.has(orderId))).toEqual([]);
}
