import { join } from 'node:path';
import { removeStaleTemps, writeFileAtomic } from '../util/atomic-write.js';
import { FILES, loadModelFiles } from './model-dir.js';
import { exportOnnx } from '../encoder/onnx/onnx-graph.js';

export interface OnnxExport {
  path: string;
  bytes: number;
  /** The tower's id (ModelFiles.towerId) that model.onnx.json records. */
  modelId: string;
  /** An ensemble's retriever tower, exported beside its own weights. */
  retriever?: OnnxExport;
}

/**
 * Writes model.onnx (and its provenance) next to a model's weights, and an ensemble's retriever's
 * next to its own. Each file is written whole (temporary, then rename), graph first and
 * provenance second, so a process that loads the model meanwhile sees either the old pair, or a
 * graph whose provenance does not match yet (and exports again), never a half-written graph.
 */
export async function exportModelDir(dir: string): Promise<OnnxExport> {
  // The verdict stage is not exported: a stale one must not stop the export.
  const files = await loadModelFiles(dir, { verdict: false });
  const retriever = files.retriever ? await exportModelDir(files.retriever.files.dir) : undefined;
  const bytes = exportOnnx(files.config, files.weights, files.towerId);
  const path = join(dir, FILES.onnx);
  for (const f of [FILES.onnx, FILES.onnxMeta]) removeStaleTemps(join(dir, f));
  await writeFileAtomic(path, bytes);
  await writeFileAtomic(join(dir, FILES.onnxMeta), JSON.stringify({ modelId: files.towerId, opset: 13, createdAt: new Date().toISOString() }, null, 2));
  return { path, bytes: bytes.length, modelId: files.towerId, retriever };
}
