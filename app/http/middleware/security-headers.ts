import helmet from 'helmet';
import type { RequestPart } from '../request-pipeline';

/**
 * helmet for a JSON API: no document is ever rendered, so the policy forbids everything, and the headers
 * that only mean something to a browser rendering a page (or to IE, Flash and Adobe readers) are not
 * sent: every header is work on every response.
 */
export function securityHeaders(): RequestPart {
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
