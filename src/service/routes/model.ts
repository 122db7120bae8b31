import type { Express } from 'express';
import { send } from '../http.js';
import { ModelInfo } from '../schemas.js';
import type { RouteContext } from './context.js';

/** GET /v1/model: the model serving, its operating points and this server's default one. */
export function modelRoute(app: Express, { model, operatingPoint, authorize }: RouteContext): void {
  app.get('/v1/model', authorize('search'), (_req, res) => {
    send(res, 200, ModelInfo, {
      id: model.id,
      energy: model.files.config.energy,
      encoder: model.encoder.runtime,
      verdict: model.verdict !== undefined,
      operatingPoints: model.operatingPoints,
      defaultOperatingPoint: operatingPoint,
    });
  });
}
