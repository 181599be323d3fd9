import express from 'express';

/**
 * The ceiling of `npm run bench`: Express 5 with one POST route and nothing else, started exactly like
 * the service (compiled JS, same node flags, its own process). It answers a body of the same shape and
 * size as a purchase. ETags are off, as in the service, so the ceiling does not pay for a hash we do not.
 */
const app = express();
app.set('etag', false);
app.post('/purchase/safe', (_req, res) => {
  res.json({
    success: true,
    method: 'safe',
    orderId: 'bench-bare:1732252800000-0',
    sku: 'bench-bare',
    quantity: 1,
    remaining: 99999999,
  });
});

const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write('bare: listening\n');
});
server.keepAliveTimeout = 65_000;
process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
});
