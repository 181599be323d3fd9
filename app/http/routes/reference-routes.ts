import { Router } from 'express';
import { REFERENCE_PAGE_CSP, referencePage } from '../openapi/reference-page';

/** The API's reference: the OpenAPI document, and the same as a page. Both are built once. */
export function referenceRoutes(document: Record<string, unknown>): Router {
  const router = Router();
  const json = JSON.stringify(document);
  const page = referencePage(document);

  router.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(json);
  });

  router.get('/docs', (_req, res) => {
    // helmet's policy forbids everything, the page's own inline style included
    res.setHeader('Content-Security-Policy', REFERENCE_PAGE_CSP);
    res.type('html').send(page);
  });

  return router;
}
