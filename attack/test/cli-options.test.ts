import { PassThrough } from 'node:stream';
import { main as attackMain } from '../attack';
import { attackHelp, parseAttackArgs } from '../attack-options';
import type { AttackOptions } from '../attack-options';
import { UsageError } from '../cli-options';
import { main as demoMain } from '../demo';
import { demoHelp, parseDemoArgs } from '../demo-options';
import type { DemoOptions } from '../demo-options';

function attack(argv: string[], env: NodeJS.ProcessEnv = {}): AttackOptions {
  const parsed = parseAttackArgs(argv, env);
  if (parsed.help) throw new Error('unexpected --help');
  return parsed;
}

function demo(argv: string[], env: NodeJS.ProcessEnv = {}): DemoOptions {
  const parsed = parseDemoArgs(argv, env);
  if (parsed.help) throw new Error('unexpected --help');
  return parsed;
}

function usageError(parse: () => unknown): string {
  try {
    parse();
  } catch (error) {
    if (error instanceof UsageError) return error.message;
    throw error;
  }
  throw new Error('expected a UsageError');
}

function captureIo(env: NodeJS.ProcessEnv = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return { io: { stdout, stderr, env }, out: () => out, err: () => err };
}

describe('attack arguments', () => {
  it('when only the target is given, then every other option has its default', () => {
    expect(attack(['--target', 'http://127.0.0.1:3000/'])).toEqual({
      help: false,
      target: 'http://127.0.0.1:3000',
      modes: ['unsafe', 'safe'],
      sku: 'flash-sale-demo',
      stock: 100,
      requests: 2000,
      connections: 100,
      users: 0,
      adminToken: undefined,
      timeoutSeconds: 10,
      warmup: 0,
      jsonFile: undefined,
      reportFile: undefined,
      live: false,
      open: false,
    });
  });

  it('when --live or --open is given, then the live page is served; --open also opens it', () => {
    expect(attack(['--target', 'http://x', '--live'])).toMatchObject({ live: true, open: false });
    expect(attack(['--target', 'http://x', '--open'])).toMatchObject({ live: true, open: true });
  });

  it('when aliases and --name=value are used, then they mean the same as the long names', () => {
    const options = attack([
      '--url=http://alb.example.com',
      '-m',
      'safe',
      '-s',
      'sku-1',
      '--stock',
      '7',
      '-n',
      '500',
      '-c',
      '20',
      '-u',
      '3',
      '-j',
      'out.json',
      '-r',
      'out.html',
      '--admin-token',
      'secret-token-0123456789',
    ]);
    expect(options).toMatchObject({
      target: 'http://alb.example.com',
      modes: ['safe'],
      sku: 'sku-1',
      stock: 7,
      requests: 500,
      connections: 20,
      users: 3,
      jsonFile: 'out.json',
      reportFile: 'out.html',
      adminToken: 'secret-token-0123456789',
    });
    expect(attack(['--target', 'http://x', '--amount', '300']).requests).toBe(300);
    expect(attack(['--target', 'http://x', '-a', '300']).requests).toBe(300);
  });

  it('when ADMIN_TOKEN is set and no --admin-token is given, then the environment supplies it', () => {
    const env = { ADMIN_TOKEN: 'from-the-environment-0123' };
    expect(attack(['--target', 'http://x'], env).adminToken).toBe('from-the-environment-0123');
    expect(attack(['--target', 'http://x', '--admin-token', 'flag-wins-0123456789'], env).adminToken).toBe(
      'flag-wins-0123456789',
    );
  });

  it('when --help is anywhere on the line, then help is all that is asked for', () => {
    expect(parseAttackArgs(['--connections', 'zero', '--help'])).toEqual({ help: true });
    expect(parseAttackArgs(['-h'])).toEqual({ help: true });
    expect(attackHelp()).toContain('--connections, -c N');
    expect(attackHelp()).toContain('env ADMIN_TOKEN');
  });

  it.each([
    [[], '--target URL is required'],
    [['--target', 'ftp://x'], '--target must be an http:// or https:// URL'],
    [['--target', 'not a url'], '--target must be a URL'],
    [['--target', 'http://x', '--mode', 'fast'], '--mode must be one of both, unsafe, safe, got "fast"'],
    [['--target', 'http://x', '--requests', '1e3'], '--requests must be an integer, got "1e3"'],
    [['--target', 'http://x', '--requests', '0'], '--requests must be between 1 and 10000000, got 0'],
    [['--target', 'http://x', '--stock', '-5'], '--stock must be an integer, got "-5"'],
    [['--target', 'http://x', '--connections'], '--connections needs a value'],
    [['--target', 'http://x', '--sku', '--stock', '5'], '--sku needs a value'],
    [['--target', 'http://x', '--sku', 'a b'], '--sku must match'],
    [
      ['--target', 'http://x', '-c', '200', '-n', '100'],
      '--connections (200) must not exceed --requests (100)',
    ],
    [['--target', 'http://x', '--duration', '10'], 'unknown option --duration'],
    [['--target', 'http://x', '-connections', '10'], 'unknown option -connections'],
    [['--target', 'http://x', 'extra'], 'unexpected argument "extra"'],
    [['--target', 'http://x', '--stock', '1', '--stock', '2'], '--stock is given more than once'],
    [['--target', 'http://x', '--help=yes'], '--help takes no value'],
  ])('when the arguments are %j, then parsing fails with "%s"', (argv, message) => {
    expect(usageError(() => parseAttackArgs(argv))).toContain(message);
  });

  it('when ADMIN_TOKEN is empty, then it counts as not set', () => {
    expect(attack(['--target', 'http://x'], { ADMIN_TOKEN: '' }).adminToken).toBeUndefined();
  });

  it('when the arguments are bad, then the CLI exits 2 with a message and no stack trace', async () => {
    const { io, out, err } = captureIo();
    await expect(attackMain(['--target', 'http://x', '--mode', 'fast'], io)).resolves.toBe(2);
    expect(err()).toBe(
      'attack: --mode must be one of both, unsafe, safe, got "fast"\nRun with --help for the options.\n',
    );
    expect(out()).toBe('');
  });

  it('when the target is unreachable, then the CLI exits 2 with a message naming it', async () => {
    const { io, err } = captureIo();
    // port 9 (discard) on loopback: nothing listens there in a test environment
    await expect(attackMain(['--target', 'http://127.0.0.1:9', '-n', '10', '-c', '1'], io)).resolves.toBe(2);
    expect(err()).toMatch(/^attack: cannot reach http:\/\/127\.0\.0\.1:9\/health\/live \(.+\)\n$/);
  });

  it('when --help is asked for, then the CLI prints the option table and exits 0', async () => {
    const { io, out } = captureIo();
    await expect(attackMain(['--help'], io)).resolves.toBe(0);
    expect(out()).toBe(attackHelp());
  });
});

describe('demo arguments', () => {
  it('when nothing is given, then the demo runs 2 instances, both modes, and writes its reports', () => {
    expect(demo([])).toMatchObject({
      instances: 2,
      unsafeDelayMs: 2,
      warmup: 1000,
      modes: ['unsafe', 'safe'],
      stock: 100,
      requests: 2000,
      connections: 100,
      jsonFile: 'reports/demo.json',
      reportFile: 'reports/demo.html',
      chaos: 'none',
      live: false,
    });
  });

  it('when --chaos failover is given, then the act runs instead, with reports of its own unless named', () => {
    expect(demo(['--chaos', 'failover', '--live'])).toMatchObject({
      chaos: 'failover',
      live: true,
      jsonFile: 'reports/failover.json',
      reportFile: 'reports/failover.html',
    });
    expect(demo(['--chaos', 'failover', '--json', 'f.json'])).toMatchObject({ jsonFile: 'f.json' });
    expect(usageError(() => parseDemoArgs(['--chaos', 'power-cut']))).toBe(
      '--chaos must be one of none, failover, got "power-cut"',
    );
  });

  it('when --instances and UNSAFE_DELAY_MS are given, then they are used', () => {
    expect(demo(['--instances', '3', '--json', 'out.json'], { UNSAFE_DELAY_MS: '7' })).toMatchObject({
      instances: 3,
      unsafeDelayMs: 7,
      jsonFile: 'out.json',
    });
    expect(demo(['-i', '4', '--unsafe-delay-ms', '0'], { UNSAFE_DELAY_MS: '7' })).toMatchObject({
      instances: 4,
      unsafeDelayMs: 0,
    });
  });

  it('when the demo is given a target, then that is a bad argument: it starts its own fleet', () => {
    expect(usageError(() => parseDemoArgs(['--target', 'http://x']))).toBe('unknown option --target');
    expect(usageError(() => parseDemoArgs(['--instances', '0']))).toContain(
      '--instances must be between 1 and 64',
    );
    expect(usageError(() => parseDemoArgs([], { UNSAFE_DELAY_MS: 'slow' }))).toBe(
      'UNSAFE_DELAY_MS must be an integer, got "slow"',
    );
  });

  it('when the demo arguments are bad, then it exits 2 with a message before starting anything', async () => {
    const { io, err } = captureIo();
    await expect(demoMain(['--instances', 'many'], io)).resolves.toBe(2);
    expect(err()).toBe(
      'demo: --instances must be an integer, got "many"\nRun with --help for the options.\n',
    );
    expect(demoHelp()).toContain('--instances, -i N');
  });
});
