import { Router } from 'express';
import type { Request, RequestHandler } from 'express';
import type { Catalogue } from '../../domain/catalogue';
import type { Validators } from '../validation';
import { bulkhead } from '../middleware/bulkhead';

/** Stock, products and orders. Writes go through `admin`. */
export function catalogueRoutes(
  catalogue: Catalogue,
  validators: Validators,
  admin: RequestHandler,
  isAdmin: (req: Request) => boolean,
): Router {
  const router = Router();

  router.get('/stock', async (req, res) => {
    res.json(await catalogue.stockLevel(validators.skuQuery(req)));
  });

  router.post('/stock/reset', admin, async (req, res) => {
    const { sku, amount } = validators.resetQuery(req);
    res.json(await catalogue.resetStock(sku, amount));
  });

  // a page reads up to 100 products: a listing storm must not take the event loop from the sale
  router.get('/products', bulkhead({ concurrent: 1, queue: 200 }), async (req, res) => {
    res.json(await catalogue.products(validators.productPage(req)));
  });

  router.get('/products/:sku', async (req, res) => {
    res.json(await catalogue.product(validators.skuParam(req.params.sku)));
  });

  router.put('/products/:sku', admin, async (req, res) => {
    const sku = validators.skuParam(req.params.sku);
    const { created, product } = await catalogue.putProduct(sku, validators.product(req.body));
    res.status(created ? 201 : 200).json(product);
  });

  router.get('/orders/:orderId', async (req, res) => {
    res.json(
      await catalogue.order(req.params.orderId, { admin: isAdmin(req), userId: validators.viewer(req) }),
    );
  });

  // A purchase looked up by its Idempotency-Key (a header: keys are secrets, and URLs end up in logs).
  router.get('/orders', async (req, res) => {
    const { sku, idempotencyKey } = validators.orderLookup(req);
    res.json(await catalogue.orderByIdempotencyKey(sku, idempotencyKey));
  });

  return router;
}
