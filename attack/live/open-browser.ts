import { spawn } from 'node:child_process';

/**
 * `--open`: hands the URL to the desktop's opener (xdg-open, open, start). On a machine without one (a
 * server, a container) nothing happens and the caller has printed the URL anyway.
 */
export function openInBrowser(url: string): void {
  const [command, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '', url]]
        : ['xdg-open', [url]];
  try {
    const child = spawn(command, args, { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // no opener: the URL is on the terminal
  }
}
