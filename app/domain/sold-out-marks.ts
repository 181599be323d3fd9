/**
 * The SKUs this process knows to be sold out, so that a purchase of one is refused without a Redis round
 * trip: once a flash sale is over, the late buyers cost the store nothing.
 *
 * A mark is a hint, never the truth: it can only turn a purchase away, never let one through (every
 * purchase it does not refuse still runs the atomic script). The danger is a stale mark refusing a
 * purchase after a restock, so a mark is trusted only while restocks are known to reach this process:
 * - a restock clears the SKU's mark on every instance (the store tells us: `clear`);
 * - while that notification channel is down, marks are not trusted, and when it comes back they are all
 *   dropped, since restocks may have been missed meanwhile (`distrust`, `trust`);
 * - a reply that left the store before a restock may be read after the restock's notification: `mark`
 *   takes the generation read before the purchase was sent and ignores the reply if anything was cleared
 *   since;
 * - each mark expires after `ttlMs` anyway, the safety net for a restock nobody announced (a hand-edited
 *   stock key, a notification lost on a half-open connection).
 */
export class SoldOutMarks {
  /** SKU -> when its mark expires, on the monotonic clock */
  private readonly marks = new Map<string, number>();
  /** when the last mark to expire expires: past it, every mark has */
  private lastExpiry = 0;
  private cleared = 0;
  private listening = false;

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** true when a purchase of `sku` may be refused as sold out without asking the store */
  isSoldOut(sku: string): boolean {
    if (!this.listening || this.marks.size === 0) return false;
    const expires = this.marks.get(sku);
    if (expires === undefined) return false;
    if (this.now() < expires) return true;
    this.marks.delete(sku);
    return false;
  }

  /** read before asking the store; hand it to `mark` with the answer */
  get generation(): number {
    return this.cleared;
  }

  /** The store answered "none left" to a request sent at `generation`. */
  mark(sku: string, generation: number): void {
    if (!this.listening || generation !== this.cleared) return;
    const expires = this.now() + this.ttlMs;
    this.marks.set(sku, expires);
    this.lastExpiry = Math.max(this.lastExpiry, expires);
  }

  /** `sku` was restocked somewhere */
  clear(sku: string): void {
    this.cleared += 1;
    this.marks.delete(sku);
  }

  /** restocks reach this process (again): marks may be set, and are trusted, from now on */
  trust(): void {
    this.dropAll();
    this.listening = true;
  }

  /** restocks may not reach this process: forget every mark and set none until `trust` */
  distrust(): void {
    this.listening = false;
    this.dropAll();
  }

  /** true between `trust` and `distrust`: marks are set and believed */
  get trusted(): boolean {
    return this.listening;
  }

  /**
   * true while some mark may still refuse a purchase. Expired marks are otherwise only dropped when their
   * SKU is asked about again; this drops them all at once when the last has expired, so that a SKU
   * nobody asks about any more does not keep the callers' sold-out work (the refusal before the routes) engaged.
   * `lastExpiry` is an upper bound: a restock does not lower it, so after one this may answer true
   * until the restocked mark would have expired, which costs that work, never a refusal.
   */
  refusesAny(): boolean {
    if (!this.listening || this.marks.size === 0) return false;
    if (this.now() < this.lastExpiry) return true;
    this.marks.clear();
    return false;
  }

  get size(): number {
    return this.marks.size;
  }

  private dropAll(): void {
    this.cleared += 1;
    this.marks.clear();
    this.lastExpiry = 0;
  }
}
