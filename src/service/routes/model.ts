import type { Express } from 'express';
import { send } from '../http.js';
import { ModelInfo } from '../schemas.js';
import type { RouteContext } from './context.js';

/** GET /v1/model: the model serving, its operating points, this server's default one, the one it replaced and the last activation. */
export function modelRoute(app: Express, ctx: RouteContext): void {
  const { index, operatingPoint, authorize } = ctx;
  app.get('/v1/model', authorize('search'), async (_req, res) => {
    const { model } = ctx;
    const models = await index.models();
    send(res, 200, ModelInfo, {
      id: model.id,
      energy: model.files.config.energy,
      encoder: model.encoder.runtime,
      verdict: model.verdict !== undefined,
      operatingPoints: model.operatingPoints,
      defaultOperatingPoint: operatingPoint,
      dir: models.current.dir,
      previous: models.previous ?? null,
      activation: ctx.modelSwitch?.status ?? null,
    });
  });
}
