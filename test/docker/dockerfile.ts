import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, posix, relative } from 'node:path';
import { loadDockerignore } from './dockerignore';

/**
 * Reads a Dockerfile and replays its stages in plain directories, so that the tests run what the image
 * would run without a Docker engine. Only the instructions our Dockerfile uses are understood; any other
 * one is an error, so the Dockerfile cannot grow a step that the test silently skips.
 */

export interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

export interface Copy {
  readonly from: string | undefined;
  readonly sources: readonly string[];
  readonly dest: string;
}

export interface Stage {
  readonly index: number;
  readonly name: string | undefined;
  readonly base: string;
  readonly instructions: readonly Instruction[];
}

export interface Healthcheck {
  readonly options: Record<string, string>;
  readonly command: readonly string[];
}

const KNOWN = new Set(['FROM', 'WORKDIR', 'COPY', 'RUN', 'ENV', 'USER', 'EXPOSE', 'HEALTHCHECK', 'CMD']);

/** Joins continuation lines, drops comments and blank lines. */
export function parseInstructions(text: string): Instruction[] {
  const result: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let current = (lines[i] ?? '').trim();
    if (current === '' || current.startsWith('#')) continue;
    while (current.endsWith('\\')) {
      current = current.slice(0, -1);
      i += 1;
      const next = (lines[i] ?? '').trim();
      if (!next.startsWith('#')) current += ' ' + next;
    }
    const match = /^(\S+)\s*(.*)$/s.exec(current.trim());
    if (!match) continue;
    const keyword = (match[1] ?? '').toUpperCase();
    if (!KNOWN.has(keyword)) {
      throw new Error(
        `Dockerfile line ${start + 1}: ${keyword} is not replayed by test/docker/dockerfile.ts`,
      );
    }
    result.push({ keyword, args: (match[2] ?? '').trim(), line: start + 1 });
  }
  return result;
}

export function parseStages(text: string): Stage[] {
  const stages: { index: number; name: string | undefined; base: string; instructions: Instruction[] }[] = [];
  for (const instruction of parseInstructions(text)) {
    if (instruction.keyword === 'FROM') {
      const match = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args);
      if (!match?.[1]) throw new Error(`Dockerfile line ${instruction.line}: cannot read FROM`);
      stages.push({ index: stages.length, name: match[2], base: match[1], instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`Dockerfile line ${instruction.line}: ${instruction.keyword} before FROM`);
      stage.instructions.push(instruction);
    }
  }
  return stages;
}

/** `["a", "b"]` (exec form) only: a shell-form CMD would run under /bin/sh, which does not pass signals on. */
export function parseExecForm(args: string): string[] {
  const parsed = JSON.parse(args) as unknown;
  if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string')) {
    throw new Error(`expected the exec form ["executable", "arg", ...], got: ${args}`);
  }
  return parsed;
}

/** `ENV A=1 B="two words"` and the legacy `ENV A 1`. */
export function parseEnv(args: string): Record<string, string> {
  if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(args)) {
    const legacy = /^(\S+)\s+(.*)$/.exec(args);
    if (!legacy?.[1]) throw new Error(`cannot read ENV ${args}`);
    return { [legacy[1]]: legacy[2] ?? '' };
  }
  const env: Record<string, string> = {};
  const pair = /([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)\s*/gy;
  let read = 0;
  let match;
  while ((match = pair.exec(args)) !== null && match[0] !== '') {
    read = pair.lastIndex;
    const raw = match[2] ?? '';
    env[match[1] ?? ''] = raw.startsWith('"')
      ? raw.slice(1, -1).replace(/\\(.)/g, '$1')
      : raw.startsWith("'")
        ? raw.slice(1, -1)
        : raw;
  }
  if (read !== args.length) throw new Error(`cannot read ENV ${args}`);
  return env;
}

export function parseCopy(args: string): Copy {
  const words = args.split(/\s+/);
  let from: string | undefined;
  while (words[0]?.startsWith('--')) {
    const flag = words.shift() ?? '';
    const fromFlag = /^--from=(.+)$/.exec(flag);
    if (fromFlag) from = fromFlag[1];
    else if (!/^--(chown|chmod)=/.test(flag)) throw new Error(`COPY ${flag} is not replayed`);
  }
  const dest = words.pop();
  if (!dest || words.length === 0) throw new Error(`cannot read COPY ${args}`);
  for (const source of words) {
    if (/[*?[]/.test(source)) throw new Error(`COPY with a wildcard (${source}) is not replayed`);
  }
  return { from, sources: words, dest };
}

export function parseHealthcheck(args: string): Healthcheck {
  const match = /^((?:--\S+\s+)*)CMD\s+(.*)$/s.exec(args);
  if (!match) throw new Error(`expected HEALTHCHECK [options] CMD [...], got: ${args}`);
  const options = Object.fromEntries(
    (match[1] ?? '')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map((flag) => {
        const [name = '', value = ''] = flag.replace(/^--/, '').split('=');
        return [name, value];
      }),
  );
  return { options, command: parseExecForm(match[2] ?? '') };
}

/** What `docker run IMAGE` would use: the final stage's ENV, WORKDIR, USER, CMD and HEALTHCHECK. */
export interface ImageConfig {
  /** the image it starts from (through earlier stages) */
  readonly base: string;
  readonly env: Record<string, string>;
  readonly workdir: string;
  readonly user: string | undefined;
  readonly cmd: readonly string[];
  readonly healthcheck: Healthcheck | undefined;
  readonly exposed: readonly string[];
  readonly copies: readonly Copy[];
}

export function imageConfig(stages: readonly Stage[], target = stages.at(-1)): ImageConfig {
  if (!target) throw new Error('no stage');
  // FROM an earlier stage inherits its configuration, as an image does.
  const parentStage = stages.find((s) => s.name === target.base && s.index < target.index);
  const parent = parentStage ? imageConfig(stages, parentStage) : undefined;
  let env: Record<string, string> = { ...parent?.env };
  let workdir = parent?.workdir ?? '/';
  let user = parent?.user;
  let cmd: readonly string[] = parent?.cmd ?? [];
  let healthcheck = parent?.healthcheck;
  const exposed: string[] = [...(parent?.exposed ?? [])];
  const copies: Copy[] = [];
  for (const instruction of target.instructions) {
    switch (instruction.keyword) {
      case 'ENV':
        env = { ...env, ...parseEnv(instruction.args) };
        break;
      case 'WORKDIR':
        workdir = posix.resolve(workdir, instruction.args);
        break;
      case 'USER':
        user = instruction.args;
        break;
      case 'CMD':
        cmd = parseExecForm(instruction.args);
        break;
      case 'HEALTHCHECK':
        healthcheck = parseHealthcheck(instruction.args);
        break;
      case 'EXPOSE':
        exposed.push(...instruction.args.split(/\s+/));
        break;
      case 'COPY':
        copies.push(parseCopy(instruction.args));
        break;
      default:
        break;
    }
  }
  return { base: parent?.base ?? target.base, env, workdir, user, cmd, healthcheck, exposed, copies };
}

export interface ReplayOptions {
  readonly dockerfile: string;
  /** the build context: the directory `docker build` is given */
  readonly context: string;
  /** where each stage's file system is laid out, one directory per stage */
  readonly workspace: string;
  /**
   * Instead of running a full `npm ci` (dev dependencies included), copy this node_modules: the one CI
   * installed with `npm ci` from the same package-lock.json. Saves half a minute per run; the production
   * install (`npm ci --omit=dev`) always runs for real, and it checks the lock file against package.json.
   */
  readonly devNodeModules?: string;
  readonly log?: (line: string) => void;
}

export interface ReplayedStage {
  readonly stage: Stage;
  readonly root: string;
  readonly workdir: string;
}

/**
 * Replays every stage in order: COPY from the context (filtered by .dockerignore) or from an earlier stage,
 * RUN through /bin/sh in the stage's WORKDIR with its ENV. Returns each stage's root.
 */
export function replay(options: ReplayOptions): ReplayedStage[] {
  const stages = parseStages(readFileSync(options.dockerfile, 'utf8'));
  const ignore = loadDockerignore(options.context);
  const done: ReplayedStage[] = [];
  const log = options.log ?? (() => undefined);

  const stageRoot = (reference: string): string => {
    const found = done.find((d) => d.stage.name === reference || String(d.stage.index) === reference);
    if (!found) throw new Error(`no earlier stage called ${reference}`);
    return found.root;
  };

  for (const stage of stages) {
    const root = join(options.workspace, `${stage.index}-${stage.name ?? 'stage'}`);
    mkdirSync(root, { recursive: true });
    let workdir = '/';
    const parent = done.find((d) => d.stage.name === stage.base);
    if (parent) {
      copyTree(parent.root, root);
      workdir = parent.workdir;
    }
    let env: Record<string, string> = {};
    const inStage = (path: string): string => join(root, posix.resolve(workdir, path));

    for (const instruction of stage.instructions) {
      switch (instruction.keyword) {
        case 'WORKDIR':
          workdir = posix.resolve(workdir, instruction.args);
          mkdirSync(inStage('.'), { recursive: true });
          break;
        case 'ENV':
          env = { ...env, ...parseEnv(instruction.args) };
          break;
        case 'COPY': {
          const copy = parseCopy(instruction.args);
          const destIsDir = copy.dest.endsWith('/') || copy.sources.length > 1;
          for (const source of copy.sources) {
            const from =
              copy.from === undefined
                ? join(options.context, posix.normalize(source))
                : join(stageRoot(copy.from), posix.resolve('/', source));
            if (copy.from === undefined && ignore.excludes(posix.normalize(source))) {
              throw new Error(`COPY ${source}: excluded from the build context by .dockerignore`);
            }
            if (!existsSync(from)) throw new Error(`COPY ${source}: not found (${from})`);
            // A directory's contents land in dest; a file lands in dest/ when dest is a directory.
            const to =
              destIsDir && !statSync(from).isDirectory()
                ? join(inStage(copy.dest), basename(source))
                : inStage(copy.dest);
            mkdirSync(dirname(to), { recursive: true });
            copyFiltered(from, to, (path) =>
              copy.from === undefined ? !ignore.excludes(relative(options.context, path)) : true,
            );
          }
          break;
        }
        case 'RUN': {
          const command = instruction.args;
          const cwd = inStage('.');
          if (options.devNodeModules && /^npm ci(\s+--[\w-]+)*$/.test(command) && !/--omit/.test(command)) {
            log(`[${stage.name ?? stage.index}] ${command}: copying ${options.devNodeModules} instead`);
            copyTree(options.devNodeModules, join(cwd, 'node_modules'));
            break;
          }
          log(`[${stage.name ?? stage.index}] RUN ${command}`);
          const result = spawnSync('/bin/sh', ['-c', command], {
            cwd,
            env: { ...process.env, ...env },
            encoding: 'utf8',
            maxBuffer: 64 * 1024 * 1024,
          });
          if (result.status !== 0) {
            throw new Error(
              `Dockerfile line ${instruction.line}: RUN ${command} exited with ${String(result.status)}\n` +
                `${result.stdout}\n${result.stderr}`,
            );
          }
          break;
        }
        default:
          // FROM, USER, EXPOSE, HEALTHCHECK, CMD shape the image's config, not its files: see imageConfig.
          break;
      }
    }
    done.push({ stage, root, workdir });
  }
  return done;
}

/** `cp -a`: an order of magnitude faster than cpSync on a node_modules tree */
function copyTree(from: string, to: string): void {
  const result = spawnSync('cp', ['-a', `${from}/.`, to], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`cp -a ${from} ${to}: ${result.stderr}`);
}

/** cpSync with a filter applied to every file and directory below `from`. */
function copyFiltered(from: string, to: string, keep: (path: string) => boolean): void {
  if (statSync(from).isDirectory()) {
    mkdirSync(to, { recursive: true });
    for (const entry of readdirSync(from)) {
      const path = join(from, entry);
      if (keep(path)) copyFiltered(path, join(to, entry), keep);
    }
  } else {
    cpSync(from, to, { verbatimSymlinks: true });
  }
}
