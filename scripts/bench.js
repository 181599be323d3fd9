// npm run bench: the benchmark measures the built service, so it builds first; its help needs no build
// and answers at once, from the sources.
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..');
const args = process.argv.slice(2);
// the measurement's own Ctrl-C handling is the child's; this process only waits for it
process.on('SIGINT', () => undefined);

const run = (command, commandArgs) => {
  const result = spawnSync(command, commandArgs, { cwd: root, stdio: 'inherit' });
  if (result.error) throw result.error;
  return result.status ?? 1;
};

if (args.includes('--help') || args.includes('-h')) {
  process.exit(
    run(process.execPath, ['-r', 'ts-node/register/transpile-only', 'attack/bench/bench.ts', ...args]),
  );
}
const built = run(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build']);
if (built !== 0) process.exit(built);
process.exit(run(process.execPath, [path.join('dist', 'attack', 'bench', 'bench.js'), ...args]));
