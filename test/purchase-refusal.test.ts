import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { AppError } from '../app/domain/errors';
import { refusePurchase } from '../app/http/purchase-refusal';
import { Metrics } from '../app/observability/metrics';

/**
 * A refusal is written a turn of the event loop later, outside the caller's stack: a fault there must
 * reach `next` (the error handler), not the event loop, where an uncaught exception ends the process.
 */
describe('refusePurchase', () => {
  const metrics = new Metrics(false);
  const refusals = async (): Promise<number> =>
    (await metrics.registry.getSingleMetric('flashsale_purchases_total')?.get())?.values.find(
      (v) => v.labels.method === 'safe' && v.labels.outcome === 'sold_out',
    )?.value ?? 0;

  const responseWhoseHeadersFail = (fault: Error): ServerResponse => {
    const res = new ServerResponse(new IncomingMessage(new Socket()));
    res.setHeader = () => {
      throw fault;
    };
    return res;
  };

  it('when writing the refusal fails, then the fault goes to next', async () => {
    const fault = new Error('cannot write');
    const seen = await new Promise<unknown>((resolve) => {
      refusePurchase(
        responseWhoseHeadersFail(fault),
        'safe',
        new AppError('sold_out', 'x is sold out'),
        metrics,
        resolve,
      );
    });
    expect(seen).toBe(fault);
  });

  it('when the refusal is written, then the problem document is sent, the refusal counted once and next never called', async () => {
    const res = new ServerResponse(new IncomingMessage(new Socket()));
    const next = jest.fn();
    const ended = new Promise<string>((resolve) => {
      res.end = ((body: string) => {
        resolve(body);
        return res;
      }) as ServerResponse['end'];
    });
    const before = await refusals();
    refusePurchase(res, 'safe', new AppError('sold_out', 'x is sold out'), metrics, next);
    expect(JSON.parse(await ended)).toMatchObject({ status: 409, code: 'sold_out' });
    expect(res.statusCode).toBe(409);
    expect((await refusals()) - before).toBe(1);
    expect(next).not.toHaveBeenCalled();
  });
});
