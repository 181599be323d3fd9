import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Debian's haproxy lives in /usr/sbin, which a non-root PATH may lack; HAPROXY_BIN overrides. */
export function haproxyBinary(): string {
  if (process.env.HAPROXY_BIN) return process.env.HAPROXY_BIN;
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  return dirs.map((dir) => join(dir, 'haproxy')).find((path) => existsSync(path)) ?? 'haproxy';
}
