import { COLORS } from '../report/charts';
import { escapeHtml } from '../report/escape-html';
import { FAILOVER_STYLE } from '../report/failover-screen';
import { SCREEN_STYLE } from '../report/first-screen';

/**
 * The live page itself: the report's style, an empty screen and a few lines of script that swap in each
 * screen the harness sends. Nothing else is fetched: no CDN, no web font. `data-phase` and `data-events`
 * on <body> say how far it got (the browser test reads them).
 */
const SCRIPT = `
(function () {
  var screen = document.getElementById('screen');
  var status = document.getElementById('status');
  var events = 0;
  var source = new EventSource('events');
  source.addEventListener('screen', function (message) {
    var event = JSON.parse(message.data);
    events += 1;
    screen.innerHTML = event.html;
    document.body.dataset.phase = event.phase;
    document.body.dataset.events = String(events);
    if (event.phase === 'final') {
      source.close();
      status.textContent = 'finished: the final comparison, kept after the harness stops';
    } else {
      status.textContent = 'live: updating from the harness';
    }
  });
  source.onerror = function () {
    if (document.body.dataset.phase !== 'final') status.textContent = 'waiting for the harness…';
  };
})();
`;

const LIVE_STYLE = `
#status { position: fixed; right: 12px; bottom: 4px; margin: 0; font-size: 14px; color: ${COLORS.muted}; background: #fff; }
.waiting { font-size: 28px; padding: 2rem 0; }
`;

export function livePage(title: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<title>${escapeHtml(title)}</title>
<style>${SCREEN_STYLE}${FAILOVER_STYLE}${LIVE_STYLE}</style>
</head>
<body data-phase="connecting" data-events="0">
<main class="screen" id="screen"><p class="waiting">Waiting for the harness to start the run…</p></main>
<p id="status">connecting…</p>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
