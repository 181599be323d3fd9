import { ConfigError, loadConfig } from '../../app/config';
import { start } from '../../app/server';

/**
 * One instance of the fleet: a node:cluster worker running the service exactly as app/main.ts does, on
 * the port the primary gave it (PORT), sharing it with its siblings. It tells the primary when it is
 * ready, and stops gracefully on SIGTERM, which only the primary sends.
 */
export type WorkerMessage =
  | { readonly type: 'ready'; readonly instanceId: string }
  | { readonly type: 'failed'; readonly message: string };

function tell(message: WorkerMessage): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      tell({ type: 'failed', message: error.message });
      process.exit(78);
    }
    throw error;
  }
  const service = await start(config);
  // Ctrl-C reaches the whole process group: the primary decides when its fleet stops, so that it can
  // still read the stock back and print what it measured.
  process.on('SIGINT', () => undefined);
  process.once('SIGTERM', () => {
    service.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
  await service.ready;
  tell({ type: 'ready', instanceId: config.instanceId });
}

main().catch((error: unknown) => {
  tell({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
