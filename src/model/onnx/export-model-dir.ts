import { join } from 'node:path';
import { removeStaleTemps, writeFileAtomic } from '../../util/atomic-write.js';
import { FILES, loadModelFiles } from '../model-dir.js';
import { exportOnnx } from './export.js';

/**
 * Writes model.onnx (and its provenance) next to a model's weights. Each file is written whole
 * (temporary, then rename), graph first and provenance second, so a process that loads the model
 * meanwhile sees either the old pair, or a graph whose provenance does not match yet (and exports
 * again), never a half-written graph.
 */
export async function exportModelDir(dir: string): Promise<{ path: string; bytes: number; modelId: string }> {
  const files = await loadModelFiles(dir);
  const bytes = exportOnnx(files.config, files.weights, files.id);
  const path = join(dir, FILES.onnx);
  for (const f of [FILES.onnx, FILES.onnxMeta]) removeStaleTemps(join(dir, f));
  await writeFileAtomic(path, bytes);
  await writeFileAtomic(join(dir, FILES.onnxMeta), JSON.stringify({ modelId: files.id, opset: 13, createdAt: new Date().toISOString() }, null, 2));
  return { path, bytes: bytes.length, modelId: files.id };
}
