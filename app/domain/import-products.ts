import type { InventoryStore } from './inventory-store';
import type { ProductInput } from './types';

export interface ProductToImport {
  readonly sku: string;
  readonly input: ProductInput;
}

export interface ImportSummary {
  readonly created: number;
  readonly updated: number;
}

/** A write failed part-way: the products already written stay written (a catalogue spans many slots). */
export class ImportStopped extends Error {
  constructor(
    readonly written: number,
    readonly total: number,
    cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = 'ImportStopped';
  }
}

/**
 * Writes products as `PUT /products` does (the store's put, not only-if-missing), `concurrency` at a time:
 * enough in flight for the client to pipeline them into few round trips, and never the whole file at
 * once, which would queue thousands of commands behind one another and time the last ones out. Stops
 * starting writes at the first failure and throws ImportStopped once those in flight have settled.
 */
export async function importProducts(
  store: Pick<InventoryStore, 'putProduct'>,
  products: readonly ProductToImport[],
  concurrency: number,
): Promise<ImportSummary> {
  let next = 0;
  let created = 0;
  let updated = 0;
  let failure: { cause: unknown } | undefined;
  const writeInTurn = async (): Promise<void> => {
    for (let product = products[next]; product && !failure; product = products[next]) {
      next += 1;
      try {
        const result = await store.putProduct(product.sku, product.input, false);
        if (result.created) created += 1;
        else updated += 1;
      } catch (error) {
        failure ??= { cause: error };
      }
    }
  };
  const writers = Math.max(1, Math.min(concurrency, products.length));
  await Promise.all(Array.from({ length: writers }, writeInTurn));
  if (failure) throw new ImportStopped(created + updated, products.length, failure.cause);
  return { created, updated };
}
