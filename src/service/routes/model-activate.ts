import type { Express, Request, Response } from 'express';
import { DoppelError } from '../../errors.js';
import { parse, send } from '../http.js';
import { ActivationStatus, ModelActivateBody } from '../schemas.js';
import type { RouteContext } from './context.js';

/** POST /v1/model/activate: puts the model in a directory on the server into service, without downtime (progress in GET /v1/model). */
export function modelActivateRoute(app: Express, { modelSwitch, authorize, jsonBody }: RouteContext): void {
  app.post('/v1/model/activate', authorize('admin'), jsonBody, async (req: Request, res: Response) => {
    const { model } = parse(ModelActivateBody, req.body);
    if (!modelSwitch) throw new DoppelError('CONFLICT', 'a server of serve --workers cannot switch models: stop it and serve with --model, or serve one process');
    send(res, 202, ActivationStatus, await modelSwitch.activate(model));
  });
}
