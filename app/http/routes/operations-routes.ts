import { Router } from 'express';
import type { Metrics } from '../../observability/metrics';

export interface Readiness {
  /** scripts loaded and the default SKU seeded */
  isReady(): boolean;
  isDraining(): boolean;
  /** resolves when Redis answers a PING, rejects (fast) when it does not */
  ping(): Promise<unknown>;
  /** when Redis was seen to have lost its data (the catalogue gone); undefined while it has not */
  dataLostSince(): Date | undefined;
}

/** Health for the load balancer and the process supervisor, metrics for Prometheus. */
export function operationsRoutes(readiness: Readiness, metrics: Metrics): Router {
  // Exact spellings only: the load balancer keeps /metrics off the internet with a case-sensitive path
  // rule, and /METRICS or /metrics/ must not reach the metrics around it.
  const router = Router({ caseSensitive: true, strict: true });

  router.get('/health/live', (_req, res) => {
    res.json({ status: 'live' });
  });

  router.get('/health', async (_req, res) => {
    if (readiness.isDraining()) {
      res.status(503).json({ status: 'draining' });
      return;
    }
    if (!readiness.isReady()) {
      res.status(503).json({ status: 'starting' });
      return;
    }
    try {
      await readiness.ping();
      const lostSince = readiness.dataLostSince();
      // still 200: the instance serves what Redis holds, and every instance sees the same Redis, so a 503
      // would take the whole fleet out of the load balancer; the body tells the operator
      if (lostSince) {
        res.json({
          status: 'redis_data_lost',
          detail:
            'Redis has lost its data (the catalogue is gone); stock is not re-created by itself: restock from the system of record',
          since: lostSince.toISOString(),
        });
        return;
      }
      res.json({ status: 'ok' });
    } catch {
      res.status(503).json({ status: 'store_unavailable' });
    }
  });

  router.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  return router;
}
