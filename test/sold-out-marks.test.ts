import { AppError } from '../app/domain/errors';
import type { InventoryStore, PurchaseOutcome } from '../app/domain/inventory-store';
import { PurchaseService } from '../app/domain/purchase';
import { SoldOutMarks } from '../app/domain/sold-out-marks';
import type { PurchaseRequest } from '../app/domain/types';

/** The mark on its own, on a fake clock: when it may refuse, and when it must not. */
describe('SoldOutMarks', () => {
  let clock = 0;
  const now = (): number => clock;
  const trusted = (ttlMs = 1000): SoldOutMarks => {
    const marks = new SoldOutMarks(ttlMs, now);
    marks.trust();
    return marks;
  };
  beforeEach(() => {
    clock = 1_000;
  });

  it('when the store said "none left", then the SKU is refused until its mark expires', () => {
    const marks = trusted(1000);
    marks.mark('a', marks.generation);
    expect(marks.isSoldOut('a')).toBe(true);
    expect(marks.isSoldOut('b')).toBe(false);
    clock += 999;
    expect(marks.isSoldOut('a')).toBe(true);
    clock += 1;
    expect(marks.isSoldOut('a')).toBe(false);
    expect(marks.size).toBe(0);
  });

  it('when every mark has expired, then none refuses any more, even for SKUs nobody asked about again', () => {
    const marks = trusted(1000);
    marks.mark('a', marks.generation);
    clock += 500;
    marks.mark('b', marks.generation);
    expect(marks.refusesAny()).toBe(true);
    clock += 500; // a has expired, b has not
    expect(marks.refusesAny()).toBe(true);
    clock += 500;
    expect(marks.refusesAny()).toBe(false);
    expect(marks.size).toBe(0);
  });

  it('when no mark is trusted or none is set, then none refuses', () => {
    const marks = new SoldOutMarks(1000, now);
    expect(marks.refusesAny()).toBe(false);
    marks.trust();
    expect(marks.refusesAny()).toBe(false);
    marks.mark('a', marks.generation);
    expect(marks.refusesAny()).toBe(true);
    marks.distrust();
    expect(marks.refusesAny()).toBe(false);
  });

  it('when a restock is announced, then that SKU is no longer refused, and the others still are', () => {
    const marks = trusted();
    marks.mark('a', marks.generation);
    marks.mark('b', marks.generation);
    marks.clear('a');
    expect(marks.isSoldOut('a')).toBe(false);
    expect(marks.isSoldOut('b')).toBe(true);
  });

  it('when the restock announcement is read before an older "none left" reply, then the reply sets no mark', () => {
    const marks = trusted();
    const sentAt = marks.generation; // purchase sent, the store answers "none left"...
    marks.clear('a'); // ...then a restock commits; its message overtakes the reply
    marks.mark('a', sentAt); // the stale reply arrives
    expect(marks.isSoldOut('a')).toBe(false);
  });

  it('when the restock channel is not known to be listening, then nothing is refused and nothing is marked', () => {
    const marks = new SoldOutMarks(1000, now);
    marks.mark('a', marks.generation);
    expect(marks.isSoldOut('a')).toBe(false);
    marks.trust();
    marks.mark('a', marks.generation);
    marks.distrust();
    expect(marks.isSoldOut('a')).toBe(false);
    expect(marks.size).toBe(0);
  });

  it('when the channel comes back, then every earlier mark is gone, and replies sent before it set none', () => {
    const marks = trusted();
    marks.mark('a', marks.generation);
    const sentBefore = marks.generation;
    marks.distrust();
    marks.trust();
    expect(marks.isSoldOut('a')).toBe(false);
    marks.mark('b', sentBefore);
    expect(marks.isSoldOut('b')).toBe(false);
  });
});

/** The mark inside the purchase, against a scripted store that counts its calls. */
describe('PurchaseService with sold-out marks', () => {
  class FakeStore {
    calls = 0;
    next: PurchaseOutcome = { kind: 'sold_out', remaining: 0 };
    purchase(): Promise<PurchaseOutcome> {
      this.calls += 1;
      return Promise.resolve(this.next);
    }
  }
  const request = (over: Partial<PurchaseRequest> = {}): PurchaseRequest => ({
    sku: 'a',
    quantity: 1,
    userId: undefined,
    idempotencyKey: undefined,
    ...over,
  });
  const setup = (): { store: FakeStore; marks: SoldOutMarks; service: PurchaseService } => {
    const store = new FakeStore();
    const marks = new SoldOutMarks(60_000);
    marks.trust();
    const service = new PurchaseService(
      store as unknown as InventoryStore,
      { waitReplicas: 0, waitTimeoutMs: 100 },
      marks,
    );
    return { store, marks, service };
  };
  const soldOut = { code: 'sold_out', status: 409, detail: 'a is sold out', extensions: { remaining: 0 } };

  it('when the store says "none left", then later purchases get the same 409 without asking it', async () => {
    const { store, service } = setup();
    await expect(service.purchaseSafe(request())).rejects.toMatchObject(soldOut);
    await expect(service.purchaseSafe(request({ quantity: 3, userId: 'u' }))).rejects.toMatchObject(soldOut);
    await expect(service.purchaseSafe(request())).rejects.toBeInstanceOf(AppError);
    expect(store.calls).toBe(1);
  });

  it('when some units are left but fewer than asked, then no mark is set', async () => {
    const { store, service } = setup();
    store.next = { kind: 'sold_out', remaining: 2 };
    await expect(service.purchaseSafe(request({ quantity: 3 }))).rejects.toMatchObject({ code: 'sold_out' });
    await expect(service.purchaseSafe(request({ quantity: 3 }))).rejects.toMatchObject({ code: 'sold_out' });
    expect(store.calls).toBe(2);
  });

  it('when a purchase carries an Idempotency-Key, then it asks the store even if marked (it may be a replay)', async () => {
    const { store, service } = setup();
    await expect(service.purchaseSafe(request())).rejects.toMatchObject(soldOut);
    store.next = { kind: 'replayed', orderRef: '1-0', quantity: 1, remaining: 0 };
    await expect(service.purchaseSafe(request({ idempotencyKey: 'k' }))).resolves.toMatchObject({
      success: true,
      replayed: true,
    });
    expect(store.calls).toBe(2);
  });

  it('when a restock clears the mark, then the next purchase asks the store and gets what it says', async () => {
    const { store, marks, service } = setup();
    await expect(service.purchaseSafe(request())).rejects.toMatchObject(soldOut);
    marks.clear('a');
    store.next = { kind: 'purchased', orderRef: '2-0', quantity: 1, remaining: 4 };
    await expect(service.purchaseSafe(request())).resolves.toMatchObject({ success: true, remaining: 4 });
    expect(store.calls).toBe(2);
  });

  it('when the store has no stock, then no purchase ever succeeds, marked or not', async () => {
    const { store, marks, service } = setup();
    for (let i = 0; i < 20; i += 1) {
      if (i % 3 === 0) marks.clear('a');
      if (i % 7 === 0) marks.distrust();
      if (i % 7 === 1) marks.trust();
      await expect(
        service.purchaseSafe(request({ idempotencyKey: i % 2 ? 'k' : undefined })),
      ).rejects.toMatchObject({
        code: 'sold_out',
      });
    }
    expect(store.calls).toBeGreaterThan(0);
  });
});
