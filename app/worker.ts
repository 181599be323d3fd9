import { ConfigError } from './env/parse-env';
import { startWorker } from './pipeline/start-worker';
import { loadWorkerConfig } from './pipeline/worker-config';

/**
 * The order worker: `npm run worker`, or `node dist/app/worker.js` (the service's image, another
 * command). It drains every SKU's order log in Redis into PostgreSQL; see app/domain/order-export.ts.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadWorkerConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`flash-sale worker: ${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const worker = await startWorker(config);
  const shutdown = (): void => {
    worker.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  // a loop that ended by itself (a fault it could not handle) ends the process: its supervisor restarts it
  worker.done.then(
    () => undefined,
    () => {
      void worker.stop().finally(() => process.exit(1));
    },
  );
}

main().catch((error: unknown) => {
  process.stderr.write(
    `flash-sale worker: failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
