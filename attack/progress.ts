import type { RunProgress } from './run-attack';

/**
 * The line that moves while a run fires. On a terminal it redraws in place; piped into a file or a CI log
 * it would be noise, so there it prints one line when a run ends.
 */
export interface ProgressLine {
  update(progress: RunProgress): void;
  done(progress: RunProgress | undefined): void;
}

const BAR_WIDTH = 24;

function describe(progress: RunProgress): string {
  const share = progress.requests === 0 ? 1 : progress.answered / progress.requests;
  const filled = Math.min(BAR_WIDTH, Math.round(share * BAR_WIDTH));
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`;
  const seconds = (progress.elapsedMs / 1000).toFixed(1);
  return (
    `${progress.mode.padEnd(6)} ${bar} ${progress.answered}/${progress.requests}  ` +
    `sold ${progress.sold}  sold out ${progress.soldOut}  failed ${progress.failed}  ${seconds} s`
  );
}

export function progressLine(stream: NodeJS.WritableStream & { isTTY?: boolean }): ProgressLine {
  const tty = stream.isTTY === true;
  let last: RunProgress | undefined;
  return {
    update(progress) {
      last = progress;
      if (tty) stream.write(`\r\x1b[2K${describe(progress)}`);
    },
    done(progress) {
      const final = progress ?? last;
      if (tty) stream.write(`\r\x1b[2K${final ? describe(final) : ''}\n`);
      else if (final) stream.write(`${describe(final)}\n`);
      last = undefined;
    },
  };
}
