import autocannon from 'autocannon';
import { WARMUP_SKU } from './attack-options';
import type { Mode } from './attack-options';
import { resetStock } from './service-client';

const WARMUP_CONNECTIONS = 50;

/**
 * Unmeasured purchases on each endpoint about to be attacked, on a SKU of their own, so that the measured
 * runs meet a warm fleet: JIT-compiled handlers, open Redis connections, loaded scripts. A service in
 * production is warm; one started a second ago is not, and its first burst says more about start-up
 * than about the endpoints.
 */
export async function warmUp(
  target: string,
  modes: readonly Mode[],
  requests: number,
  adminToken: string | undefined,
): Promise<void> {
  if (requests === 0) return;
  for (const mode of modes) {
    // Half the purchases succeed and half are sold out: both paths get warm.
    await resetStock(target, WARMUP_SKU, Math.ceil(requests / 2), adminToken);
    await autocannon({
      url: `${target}/purchase/${mode}`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku: WARMUP_SKU }),
      amount: requests,
      connections: Math.min(WARMUP_CONNECTIONS, requests),
    });
  }
}
