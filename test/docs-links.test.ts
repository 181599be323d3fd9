import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * Every relative link of README.md and docs/*.md resolves: the file exists, and an anchor into a page
 * names one of its headings (GitHub's slugs). External links are not fetched.
 */
const ROOT = join(__dirname, '..');
const PAGES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens */
const slug = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[`*_]/g, '')
    .replace(/[^\p{L}\p{N} -]/gu, '')
    .replace(/ /g, '-');

function anchorsOf(file: string): Set<string> {
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1] ?? '')));
}

function brokenLinks(page: string): string[] {
  const file = join(ROOT, page);
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
  const broken: string[] = [];
  for (const [, target = ''] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^[a-z]+:/i.test(target)) continue; // http(s), mailto
    const [path = '', anchor] = target.split('#');
    const linked = path === '' ? file : resolve(dirname(file), path);
    if (!existsSync(linked)) {
      broken.push(`${page}: ${target} (no ${relative(ROOT, linked)})`);
      continue;
    }
    if (anchor !== undefined && linked.endsWith('.md') && !anchorsOf(linked).has(anchor)) {
      broken.push(`${page}: ${target} (no heading #${anchor})`);
    }
  }
  return broken;
}

describe('the links of the README and the docs', () => {
  it.each(PAGES)('when the links of %s are followed, then every relative link resolves', (page) => {
    expect(brokenLinks(page)).toEqual([]);
  });

  it('when a link is broken, then it is found, so the check means something', () => {
    expect(existsSync(join(ROOT, 'docs', 'nowhere.md'))).toBe(false);
    expect(anchorsOf(join(ROOT, 'docs', 'api.md')).has('a-client-a-purchase-with-retries')).toBe(true);
    expect(anchorsOf(join(ROOT, 'docs', 'api.md')).has('no-such-heading')).toBe(false);
  });
});
