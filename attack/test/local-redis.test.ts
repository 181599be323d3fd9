import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis } from '../local/redis-server';

describe('startRedis', () => {
  it('when the port is already held by another redis-server, then it refuses rather than hand that one back', async () => {
    const other = await startRedis();
    try {
      await expect(startRedis({ port: other.port })).rejects.toThrow(
        new RegExp(
          `port ${other.port} is held by another redis-server \\(pid ${String(other.process.pid)}\\)`,
        ),
      );
      // and the other server was left alone
      expect(other.process.exitCode).toBeNull();
    } finally {
      await other.stop();
    }
  });

  it('when stopped, then the directory made for it is gone', async () => {
    const redis = await startRedis();
    expect(existsSync(redis.dir)).toBe(true);
    await redis.stop();
    expect(existsSync(redis.dir)).toBe(false);
  });

  it('when killed from an exit listener (no awaiting there), then it is killed and its directory is gone at once', async () => {
    const redis = await startRedis();
    const exited = once(redis.process, 'exit');
    redis.kill();
    expect(existsSync(redis.dir)).toBe(false);
    expect(await exited).toEqual([null, 'SIGKILL']);
  });

  it("when given a directory of the caller's, then neither stop nor kill removes it", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flash-sale-test-own-dir-'));
    try {
      const stopped = await startRedis({ dir });
      await stopped.stop();
      const killed = await startRedis({ dir });
      const exited = once(killed.process, 'exit');
      killed.kill();
      await exited;
      expect(existsSync(dir)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
