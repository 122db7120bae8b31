import type { Express } from 'express';
import { DoppelError } from '../../errors.js';
import { send } from '../http.js';
import { ActivationStatus } from '../schemas.js';
import type { RouteContext } from './context.js';

/** POST /v1/model/rollback: puts the model the store had before the last switch back into service, as an activation. */
export function modelRollbackRoute(app: Express, { index, modelSwitch, authorize }: RouteContext): void {
  app.post('/v1/model/rollback', authorize('admin'), async (_req, res) => {
    if (!modelSwitch) throw new DoppelError('CONFLICT', 'a server of serve --workers cannot switch models: stop it and serve with --model, or serve one process');
    const { previous } = await index.models();
    if (!previous) throw new DoppelError('CONFLICT', 'the store records no previous model to return to');
    if (!previous.dir) throw new DoppelError('CONFLICT', `the store records the previous model ${previous.id} but not its directory: activate it by its directory`);
    send(res, 202, ActivationStatus, await modelSwitch.activate(previous.dir));
  });
}
