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
});
