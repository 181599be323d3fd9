import { Router } from 'express';
import type { Request, RequestHandler } from 'express';
import type { Catalogue } from '../../domain/catalogue';
import type { Validators } from '../validation';

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

  router.get('/products', async (_req, res) => {
    res.json({ products: await catalogue.products() });
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
