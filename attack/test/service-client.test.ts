import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { TEST_ADMIN_TOKEN, startTestService, uniqueSku } from '../../test/support/fixtures';
import type { TestService } from '../../test/support/fixtures';
import { checkReachable, readStock, resetStock, TargetError } from '../service-client';

/** The harness's client, against the service, and against a server that answers off the contract. */
describe('the service client', () => {
  let service: TestService;
  let impostor: Server;
  let impostorUrl: string;

  beforeAll(async () => {
    service = await startTestService();
    // answers every call 200 with members of the wrong type
    impostor = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ status: 'live', sku: 's', current_stock: '7', initial_stock: 10, sold: 3 }));
    });
    impostor.listen(0, '127.0.0.1');
    await once(impostor, 'listening');
    impostorUrl = `http://127.0.0.1:${(impostor.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await service.stop();
    impostor.close();
  });

  it('when the service answers, then the reset and the reading are its documented answers', async () => {
    const sku = uniqueSku('client');
    await checkReachable(service.url);
    await resetStock(service.url, sku, 12, TEST_ADMIN_TOKEN);
    expect(await readStock(service.url, sku)).toEqual({
      currentStock: 12,
      initialStock: 12,
      unitsInLog: 0,
      orders: 0,
    });
  });

  it('when a refusal comes back, then its problem detail is the message', async () => {
    await expect(readStock(service.url, uniqueSku('none'))).rejects.toThrow(
      /GET \/stock answered 404: no product with SKU/,
    );
  });

  it('when an answer is not in the documented shape, then it is refused with what was wrong', async () => {
    const reading = readStock(impostorUrl, 's');
    await expect(reading).rejects.toBeInstanceOf(TargetError);
    await expect(reading).rejects.toThrow(/current_stock: .*expected number.*orders: /);
  });
});
