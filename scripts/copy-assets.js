// tsc compiles TypeScript only: the Lua scripts and the SQL migrations must sit beside their compiled
// loaders (dist/app/redis/lua, dist/app/postgres/migrations) for the built service, and so for the image.
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
for (const [dir, extension] of [
  [path.join('app', 'redis', 'lua'), '.lua'],
  [path.join('app', 'postgres', 'migrations'), '.sql'],
]) {
  const from = path.join(root, dir);
  const to = path.join(root, 'dist', dir);
  fs.rmSync(to, { recursive: true, force: true });
  fs.cpSync(from, to, {
    recursive: true,
    filter: (src) => fs.statSync(src).isDirectory() || src.endsWith(extension),
  });
  console.log(`copied ${extension} files to ${path.relative(process.cwd(), to)}`);
}
