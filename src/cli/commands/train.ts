import { TrainOptionsSchema } from '../../training/options.js';
import { train } from '../../training/pipeline.js';
import { ProgressBar } from '../progress.js';

/**
 * `doppel train`: checks the flags (a bad one fails before any work), runs the library's train()
 * with a progress bar per epoch, and says where the model went. The model directory appears
 * whole or not at all (see train()).
 */
export async function trainCommand(raw: Record<string, unknown>, log: (m: string) => void): Promise<void> {
  const options = TrainOptionsSchema.parse(raw);
  let bar: ProgressBar | undefined;
  let barEpoch = 0;
  const model = await train(
    { ...options, command: ['doppel', ...process.argv.slice(2)].join(' ') },
    {
      log,
      onProgress: (p) => {
        if (p.epoch !== barEpoch) {
          bar?.done();
          bar = new ProgressBar(`epoch ${p.epoch}/${p.epochs}`, p.total, 'pairs');
          barEpoch = p.epoch;
        }
        bar!.update(p.done, `loss ${p.loss.toFixed(4)}`);
      },
      onEpoch: () => bar?.done(),
    },
  );
  log(`model written to ${model.dir} (report: ${model.report.html}; ONNX export ${(model.onnx.bytes / 1e6).toFixed(1)} MB)`);
}
