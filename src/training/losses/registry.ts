import * as tf from '@tensorflow/tfjs-core';
import { DoppelError } from '../../errors.js';
import { contrastive } from './contrastive.js';
import type { Loss } from './loss.js';
import { multipleNegativesRanking } from './multiple-negatives-ranking.js';
import { onlineContrastive } from './online-contrastive.js';

export type { Loss, PairBatch } from './loss.js';

export const LOSS_NAMES = ['contrastive', 'online-contrastive', 'mnrl'] as const;
export type LossName = (typeof LOSS_NAMES)[number];

export interface LossOptions {
  margin: number;
  /** Softmax scale of the ranking loss. */
  scale: number;
}

export function makeLoss(name: LossName, options: LossOptions): Loss {
  switch (name) {
    case 'contrastive':
      return contrastive(options.margin);
    case 'online-contrastive':
      return onlineContrastive(options.margin);
    case 'mnrl':
      return multipleNegativesRanking(options.scale);
  }
}

/** Parses `contrastive`, `mnrl+contrastive` or `mnrl:1+contrastive:0.5` into a weighted sum. */
export function parseLoss(spec: string, options: LossOptions): { names: LossName[]; loss: Loss } {
  const terms = spec.split('+').map((part) => {
    const [name, weight] = part.trim().split(':');
    if (!(LOSS_NAMES as readonly string[]).includes(name)) {
      throw new DoppelError('INVALID_INPUT', `unknown loss '${name}': expected ${LOSS_NAMES.join(', ')} (joined with +)`);
    }
    const w = weight === undefined ? 1 : Number(weight);
    if (!Number.isFinite(w) || w <= 0) throw new DoppelError('INVALID_INPUT', `bad loss weight in '${part}'`);
    return { name: name as LossName, weight: w, loss: makeLoss(name as LossName, options) };
  });
  const loss: Loss = (batch, energy) =>
    terms.map((t) => tf.mul(t.weight, t.loss(batch, energy)) as tf.Scalar).reduce((acc, x) => tf.add(acc, x));
  return { names: terms.map((t) => t.name), loss };
}
