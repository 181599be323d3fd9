import { main } from '../attack';
import { unsafeEndpointOn } from '../service-client';
import { TEST_ADMIN_TOKEN, startTestService, uniqueSku } from '../../test/support/fixtures';
import type { TestService } from '../../test/support/fixtures';

/** A deployment serves the unsafe endpoint only when asked to: the attack runs what the target can. */
describe('when the target has the unsafe endpoint off, as a deployment does by default', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({ UNSAFE_ENDPOINT: 'off' });
  });
  afterAll(async () => {
    await svc.stop();
  });

  async function attack(extra: string[]) {
    let stdout = '';
    let stderr = '';
    const io = {
      stdout: { write: (text: string) => ((stdout += text), true) },
      stderr: { write: (text: string) => ((stderr += text), true) },
      env: { NO_COLOR: '1' },
    } as unknown as Parameters<typeof main>[1];
    const sku = uniqueSku('unsafe-off');
    const args = ['--target', svc.url, '--admin-token', TEST_ADMIN_TOKEN, '--sku', sku];
    const code = await main(
      [...args, '--stock', '10', '--requests', '40', '--connections', '4', '--warmup', '0', ...extra],
      io,
    );
    return { code, stdout, stderr };
  }

  it('then both modes run the safe one only, with a line saying why the unsafe run is skipped', async () => {
    const { code, stdout, stderr } = await attack([]);
    expect(stderr).toContain('/purchase/unsafe is off (404 unsafe_disabled');
    expect(stderr).toContain('skipping the unsafe run, running safe only');
    expect(code).toBe(0);
    expect(stdout).toMatch(/safe/);
  });

  it('then the unsafe mode alone exits 2 and says to run the safe mode', async () => {
    const { code, stderr } = await attack(['--mode', 'unsafe']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/unsafe_disabled.*run --mode safe instead/);
  });
});

describe('when the target has the unsafe endpoint on', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({ UNSAFE_ENDPOINT: 'on' });
  });
  afterAll(async () => {
    await svc.stop();
  });

  it('then the probe says so and buys nothing', async () => {
    const before = await fetch(`${svc.url}/stock`).then((res) => res.json() as Promise<{ sold: number }>);
    expect(await unsafeEndpointOn(svc.url)).toBe(true);
    const after = await fetch(`${svc.url}/stock`).then((res) => res.json() as Promise<{ sold: number }>);
    expect(after.sold).toBe(before.sold);
  });
});
