import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { requestPipeline } from '../app/http/request-pipeline';
import type { RequestPart } from '../app/http/request-pipeline';

/** The server's one way in: the parts in order, then the routes, unless a part answered or failed. */
describe('requestPipeline', () => {
  const req = new IncomingMessage(new Socket());
  const res = new ServerResponse(req);

  const run = (parts: (seen: string[]) => RequestPart[]) => {
    const seen: string[] = [];
    const failures: unknown[] = [];
    const listener = requestPipeline(
      parts(seen),
      () => {
        seen.push('routes');
      },
      (error) => failures.push(error),
    );
    listener(req, res);
    return { seen, failures };
  };
  const passes =
    (name: string, seen: string[]): RequestPart =>
    (_req, _res, next) => {
      seen.push(name);
      next();
    };

  it('when every part goes on, then each runs once, in order, and the routes last', () => {
    expect(run((seen) => [passes('a', seen), passes('b', seen), passes('c', seen)])).toEqual({
      seen: ['a', 'b', 'c', 'routes'],
      failures: [],
    });
  });

  it('when a part answers, then neither the parts after it nor the routes run', () => {
    const answers =
      (seen: string[]): RequestPart =>
      () => {
        seen.push('answers');
      };
    expect(run((seen) => [passes('a', seen), answers(seen), passes('c', seen)]).seen).toEqual([
      'a',
      'answers',
    ]);
  });

  it('when a part passes an error on or throws, then the failure handler gets it and nothing else runs', () => {
    const refused = new Error('refused');
    const broken = new Error('broken');
    const fails: RequestPart = (_req, _res, next) => {
      next(refused);
    };
    const throws: RequestPart = () => {
      throw broken;
    };
    expect(run((seen) => [passes('a', seen), fails, passes('c', seen)])).toEqual({
      seen: ['a'],
      failures: [refused],
    });
    expect(run((seen) => [throws, passes('b', seen)])).toEqual({ seen: [], failures: [broken] });
  });

  it('when a part goes on later (a body read), then the rest run then', async () => {
    const later: RequestPart = (_req, _res, next) => {
      setImmediate(next);
    };
    const seen: string[] = [];
    const done = new Promise<void>((resolve) => {
      requestPipeline(
        [later, passes('b', seen)],
        () => {
          resolve();
        },
        () => undefined,
      )(req, res);
    });
    expect(seen).toEqual([]);
    await done;
    expect(seen).toEqual(['b']);
  });
});
