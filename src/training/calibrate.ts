import { maxAccuracyThreshold, precisionThreshold } from '../evaluation/binary-classification.js';
import type { Calibration } from '../model/model-dir.js';
import { fitPlatt } from '../model/platt.js';

/** The decision threshold (max accuracy, or max recall at a target precision) and Platt scaling. */
export function calibrate(energies: Float32Array, labels: Float32Array, targetPrecision?: number): Calibration {
  const platt = fitPlatt(energies, labels);
  if (targetPrecision !== undefined) {
    return { threshold: precisionThreshold(energies, labels, targetPrecision), criterion: 'precision', targetPrecision, platt };
  }
  return { threshold: maxAccuracyThreshold(energies, labels), criterion: 'accuracy', platt };
}
