export default async function globalTeardown(): Promise<void> {
  await Promise.all([globalThis.__flashSaleRedis?.stop(), globalThis.__flashSalePostgres?.stop()]);
}
