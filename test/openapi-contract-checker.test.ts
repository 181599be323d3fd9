import { openApiDocument } from '../app/http/openapi/document';
import { requestSchemas } from '../app/http/validation';
import { OpenApiContract } from './support/openapi-contract';

/** The contract test's checker must be able to fail: answers that break the document, each caught. */
describe('the contract checker', () => {
  const contract = new OpenApiContract(
    openApiDocument(requestSchemas({ defaultSku: 'sku', defaultStock: 10, maxQuantity: 10 })),
  );
  const headers = (extra: Record<string, string> = {}): Headers =>
    new Headers({ 'content-type': 'application/json; charset=utf-8', 'x-instance-id': 'i-1', ...extra });
  const stock = JSON.stringify({ sku: 's', current_stock: 1, initial_stock: 2, sold: 1, orders: 1 });

  it('when an answer keeps the document, then it finds nothing', () => {
    expect(
      contract.violations({
        method: 'GET',
        path: '/stock?sku=s',
        status: 200,
        headers: headers(),
        text: stock,
      }),
    ).toEqual([]);
  });

  it('when a body has a member the document does not name, or lacks one, then it says so', () => {
    const extra = JSON.stringify({ ...(JSON.parse(stock) as object), secret: 1 });
    expect(
      contract.violations({ method: 'GET', path: '/stock', status: 200, headers: headers(), text: extra }),
    ).toEqual([expect.stringContaining('must NOT have additional properties')]);
    expect(
      contract.violations({
        method: 'GET',
        path: '/stock',
        status: 200,
        headers: headers(),
        text: '{"sku":"s"}',
      }),
    ).not.toEqual([]);
  });

  it('when a status, a header or a problem code is not the documented one, then it says so', () => {
    const problem = (code: string, status: number): string =>
      JSON.stringify({ type: `urn:flash-sale:problem:${code}`, title: 't', status, detail: 'd', code });
    const problemHeaders = headers({ 'content-type': 'application/problem+json' });
    expect(
      contract.violations({ method: 'GET', path: '/stock', status: 418, headers: headers(), text: '{}' }),
    ).toEqual([expect.stringContaining('not documented')]);
    expect(
      contract.violations({
        method: 'GET',
        path: '/stock',
        status: 200,
        headers: new Headers({ 'content-type': 'application/json' }),
        text: stock,
      }),
    ).toEqual([expect.stringContaining('X-Instance-Id is missing')]);
    expect(
      contract.violations({
        method: 'GET',
        path: '/stock',
        status: 404,
        headers: problemHeaders,
        text: problem('unknown_order', 404),
      }),
    ).not.toEqual([]);
    expect(
      contract.violations({
        method: 'POST',
        path: '/purchase/safe',
        status: 503,
        headers: problemHeaders,
        text: problem('store_unavailable', 503),
      }),
    ).toEqual([expect.stringContaining('Retry-After is missing')]);
  });

  it('when a known path answers another method with anything but 405, then it says so', () => {
    expect(
      contract.violations({
        method: 'GET',
        path: '/purchase/safe',
        status: 404,
        headers: headers(),
        text: '{}',
      }),
    ).toEqual([expect.stringContaining('undocumented method')]);
  });
});
