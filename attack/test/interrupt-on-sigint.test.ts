import { PassThrough } from 'node:stream';
import { EXIT, SAME_CTRL_C_MS, interruptOnSigint } from '../run-session';

/**
 * The CLIs' Ctrl-C handling, in this process: SIGINT is emitted rather than sent, the clock is set by hand,
 * and process.exit throws instead of ending the test run.
 */
let now = 0;
let stderr = '';
let exit: jest.SpiedFunction<typeof process.exit>;
let interrupt: ReturnType<typeof interruptOnSigint> | undefined;
const forcedExit = jest.fn();

function start(): ReturnType<typeof interruptOnSigint> {
  const err = new PassThrough();
  err.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  interrupt = interruptOnSigint({ stdout: new PassThrough(), stderr: err, env: {} }, 'stopping', forcedExit);
  return interrupt;
}

function ctrlCAt(ms: number): void {
  now = ms;
  process.emit('SIGINT');
}

beforeEach(() => {
  now = 0;
  stderr = '';
  forcedExit.mockReset();
  jest.spyOn(performance, 'now').mockImplementation(() => now);
  exit = jest.spyOn(process, 'exit').mockImplementation((code) => {
    throw new Error(`exit ${String(code)}`);
  });
});

afterEach(() => {
  interrupt?.dispose();
  interrupt = undefined;
  jest.restoreAllMocks();
});

describe('Ctrl-C during a run', () => {
  it('when one Ctrl-C arrives twice within a second (npm forwards the one it also got), then the run stops and nothing exits', async () => {
    const { signal } = start();
    ctrlCAt(1000);
    ctrlCAt(1000 + SAME_CTRL_C_MS - 1);
    await new Promise((resolve) => setImmediate(resolve));

    expect(signal.aborted).toBe(true);
    expect(exit).not.toHaveBeenCalled();
    expect(forcedExit).not.toHaveBeenCalled();
    expect(stderr).toBe('\ninterrupted: stopping (Ctrl-C again to exit at once)\n');
  });

  it('when Ctrl-C comes again later, then it kills what would outlive it and exits 130 at once', () => {
    const { signal } = start();
    ctrlCAt(1000);
    expect(signal.aborted).toBe(true);
    expect(() => {
      ctrlCAt(1000 + SAME_CTRL_C_MS);
    }).toThrow(`exit ${EXIT.interrupted}`);

    expect(forcedExit).toHaveBeenCalledTimes(1);
    expect(exit).toHaveBeenCalledWith(EXIT.interrupted);
    expect(stderr).toMatch(/\ninterrupted twice: exiting now\n$/);
  });
});
