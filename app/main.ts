import { ConfigError, loadConfig } from './config';
import { start } from './server';

/** Process entry point: `node dist/app/main.js`. Configuration comes from the environment only. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`flash-sale: ${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }

  const service = await start(config);
  const shutdown = (signal: string): void => {
    service.logger.info({ signal }, 'shutting down');
    service.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        service.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `flash-sale: failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
