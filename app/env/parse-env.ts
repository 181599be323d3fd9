import type { z } from 'zod';

/** A bad environment: every problem names its variable, so the operator knows what to fix. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses the environment with `schema`; throws ConfigError naming every bad variable. An empty variable
 * means "not set", as in most shells' `VAR= command`.
 */
export function parseEnv<S extends z.ZodType>(schema: S, source: NodeJS.ProcessEnv): z.infer<S> {
  const present = Object.fromEntries(
    Object.entries(source).filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const [variable, ...rest] = issue.path.map(String);
        const entry = rest.length > 0 ? ` (entry ${rest.map((i) => Number(i) + 1).join('.')})` : '';
        return `${variable ?? 'environment'}: ${issue.message}${entry}`;
      }),
    );
  }
  return parsed.data;
}
