import type { Redis } from 'ioredis';
import type { SoldOutMarks } from '../domain/sold-out-marks';
import type { Logger } from '../observability/logger';
import { keepConnected } from './client';
import { restockChannel } from './keys';

export interface RestockListener {
  /** the subscribed connection (tests kill it to prove that marks are dropped on reconnection) */
  readonly connection: Redis;
  stop(): Promise<void>;
}

/**
 * Keeps the sold-out marks in step with the restocks the scripts publish, on a connection of its own.
 *
 * Marks are trusted only from a confirmed SUBSCRIBE to the connection's next close: every restock
 * committed in between is delivered to us. Outside that span a restock may go unheard, so on close the
 * marks are dropped and no new one is set, and on each reconnection the listener subscribes again (not
 * ioredis behind its back) and only then trusts marks, starting from none.
 */
export function listenForRestocks(connection: Redis, marks: SoldOutMarks, logger: Logger): RestockListener {
  let session = 0;
  let stopped = false;
  let outage = false;

  connection.on('message', (channel: string, sku: string) => {
    if (channel === restockChannel) marks.clear(sku);
  });
  connection.on('ready', () => {
    const mine = session;
    connection.subscribe(restockChannel).then(
      () => {
        if (mine !== session || stopped) return;
        marks.trust();
        if (outage) logger.info('restock channel listening again; sold-out marks back on');
        outage = false;
      },
      (error: unknown) => {
        if (mine !== session || stopped) return;
        logger.warn({ err: error }, 'could not subscribe to restocks; reconnecting');
        connection.disconnect(true);
      },
    );
  });
  connection.on('close', () => {
    session += 1;
    marks.distrust();
    if (!outage && !stopped) logger.warn('restock channel lost; sold-out marks off until it is back');
    outage = true;
  });
  // The main connection reports outages; this one only needs a listener so that ioredis does not.
  connection.on('error', () => undefined);
  keepConnected(connection, () => stopped);

  return {
    connection,
    stop: async () => {
      stopped = true;
      marks.distrust();
      await connection.quit().catch(() => {
        connection.disconnect();
      });
    },
  };
}
