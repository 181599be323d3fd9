import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';

/**
 * .dockerignore as the Docker builder reads it: one pattern a line, `#` comments, `!` re-includes, the last
 * matching pattern wins, and a pattern that matches a directory matches everything below it. Patterns use
 * `*` (within one path segment), `?` and `**` (any number of segments); character classes are refused
 * rather than guessed at.
 */
export interface Dockerignore {
  readonly patterns: readonly { readonly negated: boolean; readonly source: string }[];
  /** `path` is relative to the context, with forward slashes */
  excludes(path: string): boolean;
}

function toRegExp(pattern: string): RegExp {
  if (/[[\]\\]/.test(pattern))
    throw new Error(`.dockerignore pattern ${pattern}: not supported by this reader`);
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i] ?? '';
    if (char === '*' && pattern[i + 1] === '*') {
      // `**/` matches zero or more whole segments; a trailing `**` matches anything
      if (pattern[i + 2] === '/') {
        source += '(?:.*/)?';
        i += 2;
      } else {
        source += '.*';
        i += 1;
      }
    } else if (char === '*') {
      source += '[^/]*';
    } else if (char === '?') {
      source += '[^/]';
    } else {
      source += char.replace(/[.+^${}()|]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`);
}

export function parseDockerignore(text: string): Dockerignore {
  const patterns = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const negated = line.startsWith('!');
      const cleaned = posix.normalize(negated ? line.slice(1).trim() : line).replace(/^\/+|\/+$/g, '');
      return { negated, source: cleaned, regexp: toRegExp(cleaned) };
    });
  return {
    patterns: patterns.map(({ negated, source }) => ({ negated, source })),
    excludes(path: string): boolean {
      const segments = posix.normalize(path).split('/');
      // the path itself and every directory above it
      const candidates = segments.map((_, i) => segments.slice(0, i + 1).join('/'));
      let excluded = false;
      for (const pattern of patterns) {
        if (candidates.some((candidate) => pattern.regexp.test(candidate))) excluded = !pattern.negated;
      }
      return excluded;
    },
  };
}

export function loadDockerignore(context: string): Dockerignore {
  const file = join(context, '.dockerignore');
  return parseDockerignore(existsSync(file) ? readFileSync(file, 'utf8') : '');
}
