import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { AppError } from '../app/domain/errors';
import { sendRefusal } from '../app/http/problem';

/**
 * sendRefusal writes a turn of the event loop later, outside the route's stack and Express's error
 * handling: a fault there must reach the caller, not the event loop (an uncaught exception ends the
 * process). The caller hears of every write: `written()` once sent, `written(fault)` if it threw.
 */
describe('sendRefusal', () => {
  const responseWhoseHeadersFail = (fault: Error): ServerResponse => {
    const res = new ServerResponse(new IncomingMessage(new Socket()));
    res.setHeader = () => {
      throw fault;
    };
    return res;
  };

  it('when writing the refusal fails, then the fault goes to the callback', async () => {
    const fault = new Error('cannot write');
    const seen = await new Promise<unknown>((resolve) => {
      sendRefusal(responseWhoseHeadersFail(fault), new AppError('sold_out', 'x is sold out'), resolve);
    });
    expect(seen).toBe(fault);
  });

  it('when the refusal is written, then the problem document is sent and the callback is told so, with no fault', async () => {
    const res = new ServerResponse(new IncomingMessage(new Socket()));
    const written = jest.fn();
    const ended = new Promise<string>((resolve) => {
      res.end = ((body: string) => {
        resolve(body);
        return res;
      }) as ServerResponse['end'];
    });
    sendRefusal(res, new AppError('sold_out', 'x is sold out'), written);
    expect(JSON.parse(await ended)).toMatchObject({ status: 409, code: 'sold_out' });
    expect(res.statusCode).toBe(409);
    expect(written.mock.calls).toEqual([[]]);
  });
});
