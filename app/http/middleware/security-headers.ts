import helmet from 'helmet';

/** helmet's middleware needs nothing of Express, so the sold-out fast path runs it too */
export type SecurityHeaders = ReturnType<typeof helmet>;

/**
 * helmet for a JSON API: no document is ever rendered, so the policy forbids everything, and the headers
 * that only mean something to a browser rendering a page (or to IE, Flash and Adobe readers) are not
 * sent: every header is work on every response.
 */
export function securityHeaders(): SecurityHeaders {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    },
    xFrameOptions: { action: 'deny' },
    crossOriginEmbedderPolicy: false,
    crossOriginOpenerPolicy: false,
    originAgentCluster: false,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xPermittedCrossDomainPolicies: false,
    xXssProtection: false,
  });
}
