// tsc compiles TypeScript only: the Lua scripts must sit beside the compiled loader
// (dist/app/redis/lua) for the built service, and so for the Docker image.
const fs = require('node:fs');
const path = require('node:path');

const from = path.join(__dirname, '..', 'app', 'redis', 'lua');
const to = path.join(__dirname, '..', 'dist', 'app', 'redis', 'lua');
fs.rmSync(to, { recursive: true, force: true });
fs.cpSync(from, to, {
  recursive: true,
  filter: (src) => fs.statSync(src).isDirectory() || src.endsWith('.lua'),
});
console.log(`copied Lua scripts to ${path.relative(process.cwd(), to)}`);
