import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FILES, loadModelFiles } from '../model-dir.js';
import { exportOnnx } from './export.js';

/** Writes model.onnx (and its provenance) next to a model's weights. */
export async function exportModelDir(dir: string): Promise<{ path: string; bytes: number; modelId: string }> {
  const files = await loadModelFiles(dir);
  const bytes = exportOnnx(files.config, files.weights, files.id);
  const path = join(dir, FILES.onnx);
  await writeFile(path, bytes);
  await writeFile(join(dir, FILES.onnxMeta), JSON.stringify({ modelId: files.id, opset: 13, createdAt: new Date().toISOString() }, null, 2));
  return { path, bytes: bytes.length, modelId: files.id };
}
