import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster } from 'ioredis';
import type { Redis, Result } from 'ioredis';

/**
 * Lua scripts, one per file in ./lua, named `<command>-<number of keys>.lua` (the BullMQ convention):
 * the loader reads the key count from the name, so a script and its KEYS arity cannot drift apart.
 *
 * `defineCommand` makes ioredis call each script by SHA (EVALSHA) and fall back to EVAL on NOSCRIPT, so
 * a Redis restart, a failover or a SCRIPT FLUSH costs one EVAL, never a failed purchase.
 */
export type RedisClient = Redis | Cluster;

/** reply of purchase-5.lua: {code, orderRef, quantity, remaining} */
export type PurchaseReply = [number, string, number, number];

declare module 'ioredis' {
  interface RedisCommander<Context> {
    purchase(
      stock: string,
      product: string,
      buyers: string,
      orders: string,
      idempotency: string,
      quantity: number,
      userId: string,
      idempotencyKey: string,
      method: string,
      token: string,
    ): Result<PurchaseReply, Context>;
    resetStock(
      stock: string,
      product: string,
      buyers: string,
      idempotency: string,
      amount: number,
      name: string,
      channel: string,
      sku: string,
    ): Result<number, Context>;
    putProduct(
      stock: string,
      product: string,
      name: string,
      price: string,
      units: number,
      perUserLimit: number,
      onlyIfMissing: '0' | '1',
      channel: string,
      sku: string,
    ): Result<number, Context>;
    trimExported(orders: string, group: string, cutoff: string): Result<number, Context>;
    /** {pending, undelivered, oldest entry id or ''} */
    orderBacklog(orders: string, group: string): Result<[number, number, string], Context>;
  }
}

export interface Script {
  readonly command: string;
  readonly numberOfKeys: number;
  readonly lua: string;
}

const LUA_DIR = join(__dirname, 'lua');

function commandName(base: string): string {
  return base.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/** the commands the store calls: a build that lost one of their files must not start */
const REQUIRED_COMMANDS = ['purchase', 'resetStock', 'putProduct', 'trimExported', 'orderBacklog'];

/** Reads every script once, at start-up; throws if the directory or a required script is missing. */
export function readScripts(dir: string = LUA_DIR): Script[] {
  const scripts = readdirSync(dir)
    .filter((file) => file.endsWith('.lua'))
    .sort()
    .map((file) => {
      const match = /^([a-z-]+)-(\d+)\.lua$/.exec(file);
      if (!match?.[1] || !match[2]) throw new Error(`Lua script ${file} is not named <command>-<keys>.lua`);
      return {
        command: commandName(match[1]),
        numberOfKeys: Number(match[2]),
        lua: readFileSync(join(dir, file), 'utf8'),
      };
    });
  const missing = REQUIRED_COMMANDS.filter(
    (command) => !scripts.some((script) => script.command === command),
  );
  if (missing.length > 0) throw new Error(`Lua scripts missing from ${dir}: ${missing.join(', ')}`);
  return scripts;
}

export function defineScripts(client: RedisClient, scripts: readonly Script[]): void {
  for (const { command, numberOfKeys, lua } of scripts) {
    client.defineCommand(command, { numberOfKeys, lua });
  }
}

/**
 * SCRIPT LOAD on every primary, so the first purchase after start-up is already an EVALSHA hit.
 * `/health` stays 503 until this has succeeded.
 */
export async function loadScripts(client: RedisClient, scripts: readonly Script[]): Promise<void> {
  const targets: Redis[] = client instanceof Cluster ? client.nodes('master') : [client];
  await Promise.all(targets.flatMap((node) => scripts.map((script) => node.script('LOAD', script.lua))));
}
