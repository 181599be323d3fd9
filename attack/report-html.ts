import { COLORS } from './report/charts';
import { escapeHtml } from './report/escape-html';
import { SCREEN_STYLE, finalScreen, renderScreen } from './report/first-screen';
import { rowsFor, runsInOrder } from './report-table';
import type { AttackReport, RunResult } from './run-result';

export { escapeHtml } from './report/escape-html';

/**
 * One self-contained HTML page a presenter can open offline or put on a slide: first the screen the live
 * page ends on (the verdict per endpoint as big numbers, the charts beside each other), then the full
 * comparison table. Charts are inline SVG and the style is inline CSS: no script, no CDN, no font
 * download. Every value that comes from outside (the target URL, the SKU, instance ids) is HTML-escaped.
 */
function table(report: AttackReport, runs: readonly RunResult[]): string {
  const head = runs
    .map((run) => `<th>${escapeHtml(run.mode)}<br/><code>POST ${escapeHtml(run.endpoint)}</code></th>`)
    .join('');
  const rows = rowsFor(report).map((row) => {
    const cells = runs
      .map((run) => {
        const cell = row.cell(run);
        return `<td class="${cell.tone}">${escapeHtml(cell.text)}</td>`;
      })
      .join('');
    return `<tr><th scope="row">${escapeHtml(row.label)}</th>${cells}</tr>`;
  });
  return `<table><thead><tr><th></th>${head}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

const TABLE_STYLE = `
.details { margin-top: 28px; }
.details h2 { font-size: 22px; }
table { border-collapse: collapse; margin: 0.5rem 0 2rem; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid ${COLORS.grid}; padding: 0.35rem 0.8rem; text-align: left; }
thead th { background: #f6f8fa; }
td.good { color: ${COLORS.good}; font-weight: bold; }
td.bad { color: ${COLORS.bad}; font-weight: bold; }
td.good::before { content: "✓ "; }
td.bad::before { content: "✗ "; }
`;

export function renderHtmlReport(report: AttackReport): string {
  const runs = runsInOrder(report);
  const screen = finalScreen(report);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<title>${escapeHtml(screen.title)}</title>
<style>${SCREEN_STYLE}${TABLE_STYLE}</style>
</head>
<body>
<main class="screen" id="screen">${renderScreen(screen)}</main>
<section class="screen details"><h2>Every figure</h2>
${table(report, runs)}
</section>
</body>
</html>
`;
}
