import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ImportStopped, importProducts } from './domain/import-products';
import type { ImportSummary } from './domain/import-products';
import { commonEnvShape } from './env/common-env';
import { ConfigError, parseEnv } from './env/parse-env';
import { checkRedisEnv, redisEnvShape, toRedisSettings } from './env/redis-env';
import type { RedisSettings } from './env/redis-env';
import { UsageError, importHelp, parseImportArgs } from './import/import-options';
import { formatProblem, readCatalogue } from './import/read-catalogue';
import type { CatalogueProduct } from './import/read-catalogue';
import { createRedisClient } from './redis/client';
import { RedisInventoryStore } from './redis/inventory-store';
import { defineScripts, loadScripts, readScripts } from './redis/scripts';

/**
 * `npm run catalogue:import -- FILE.csv`: checks a whole catalogue file, then writes every product through
 * the service's own put-product script. Exit 0: imported; 1: the file has problems (each one listed with
 * its line), nothing imported; 2: it could not run (the reason, on one line).
 */
export const EXIT = { ok: 0, badFile: 1, cannotRun: 2 } as const;

/** products written at once: enough for ioredis to pipeline them, few enough not to queue a whole file */
export const CONCURRENCY = 64;

const envSchema = z.object({ ...commonEnvShape, ...redisEnvShape }).superRefine(checkRedisEnv);

export interface Output {
  write(text: string): unknown;
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
const products = (count: number): string => `${count} product${count === 1 ? '' : 's'}`;

export function importSummary({ created, updated }: ImportSummary): string {
  return `imported ${products(created + updated)}: ${created} created, ${updated} updated`;
}

/** Why the import could not run: one line, for an operator. */
class CannotRun extends Error {}

/** Connects as the service does, loads its scripts and writes the products; throws CannotRun. */
async function writeToRedis(settings: RedisSettings, catalogue: CatalogueProduct[]): Promise<ImportSummary> {
  const redis = createRedisClient(settings);
  // A refused connection is reported both to connect() ("Connection is closed.") and as an 'error'
  // event, which says why: the event is the one worth showing, and without a listener ioredis would
  // print it as unhandled.
  let lastError: unknown;
  redis.on('error', (error: unknown) => {
    lastError = error;
  });
  try {
    try {
      await redis.connect();
    } catch (error) {
      throw new CannotRun(`cannot reach Redis (${messageOf(lastError ?? error)}); nothing imported`);
    }
    // read and loaded as the service does: a build that lost a script must not write half a file
    const scripts = readScripts();
    defineScripts(redis, scripts);
    try {
      await loadScripts(redis, scripts);
    } catch (error) {
      throw new CannotRun(`cannot load the scripts into Redis (${messageOf(error)}); nothing imported`);
    }
    try {
      return await importProducts(new RedisInventoryStore(redis), catalogue, CONCURRENCY);
    } catch (error) {
      if (!(error instanceof ImportStopped)) throw error;
      throw new CannotRun(
        `stopped after writing ${error.written} of ${products(error.total)} (${error.message}); ` +
          'those stay written, and importing the same file again writes them all',
      );
    }
  } finally {
    await redis.quit().catch(() => {
      redis.disconnect();
    });
  }
}

export async function main(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  out: Output,
  err: Output,
): Promise<number> {
  const cannotRun = (reason: string): number => {
    err.write(`catalogue-import: ${reason}\n`);
    return EXIT.cannotRun;
  };

  let args;
  try {
    args = parseImportArgs(argv);
  } catch (error) {
    if (error instanceof UsageError) return cannotRun(`${error.message} (see --help)`);
    throw error;
  }
  if (args.help) {
    out.write(importHelp());
    return EXIT.ok;
  }

  // A dry run needs no Redis, so it reads no Redis settings: it can check a file anywhere.
  let settings: RedisSettings | undefined;
  if (!args.dryRun) {
    try {
      settings = toRedisSettings(parseEnv(envSchema, env));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return cannotRun(`invalid configuration: ${error.problems.join('; ')}`);
    }
  }

  let content: Buffer;
  try {
    content = readFileSync(args.file);
  } catch (error) {
    return cannotRun(`cannot read ${args.file}: ${messageOf(error)}`);
  }

  const { products: catalogue, problems } = readCatalogue(content, args.defaults);
  if (problems.length > 0) {
    err.write(problems.map((problem) => `${formatProblem(problem)}\n`).join(''));
    err.write(
      `catalogue-import: ${problems.length} problem${problems.length === 1 ? '' : 's'} in ${args.file}; nothing imported\n`,
    );
    return EXIT.badFile;
  }
  if (!settings) {
    out.write(`dry run: ${products(catalogue.length)} in ${args.file}, all valid; nothing written\n`);
    return EXIT.ok;
  }

  try {
    out.write(`${importSummary(await writeToRedis(settings, catalogue))}\n`);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CannotRun) return cannotRun(error.message);
    throw error;
  }
}

if (require.main === module) {
  main(process.argv.slice(2), process.env, process.stdout, process.stderr).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      // 1 would read as "the file is bad": a crash is "could not run"
      process.stderr.write(`catalogue-import: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exitCode = EXIT.cannotRun;
    },
  );
}
