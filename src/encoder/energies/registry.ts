import type { EnergyName } from '../config.js';
import { cosine } from './cosine.js';
import type { Energy } from './energy.js';
import { euclidean } from './euclidean.js';
import { manhattan } from './manhattan.js';

export type { Energy } from './energy.js';

export const ENERGIES: Record<EnergyName, Energy> = { euclidean, cosine, manhattan };
