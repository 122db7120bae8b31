import onnxProto from 'onnx-proto';
import type { ModelConfig } from '../config.js';
import type { WeightMap } from '../weights.js';
import { DoppelError } from '../../errors.js';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;
const INT32 = onnx.TensorProto.DataType.INT32;
const OPSET = 13;

/** Keras/tfjs stack LSTM gates as i, f, c, o; ONNX expects i, o, f, c. */
const ONNX_GATE_ORDER = [0, 3, 1, 2];

type Attr = number | number[] | string;

class GraphBuilder {
  readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private n = 0;

  /** Adds a node; `outputs` is a count of fresh names or the names themselves. */
  node(op: string, inputs: string[], attrs: Record<string, Attr> = {}, outputs: number | string[] = 1): string[] {
    const names = Array.isArray(outputs) ? outputs : Array.from({ length: outputs }, (_, i) => `${op.toLowerCase()}_${this.n}_${i}`);
    this.n++;
    const attribute = Object.entries(attrs).map(([name, v]) => {
      if (typeof v === 'string') return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(v) });
      if (Array.isArray(v)) return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: v });
      if (Number.isInteger(v)) return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i: v });
      return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f: v });
    });
    this.nodes.push(onnx.NodeProto.create({ opType: op, input: inputs, output: names, attribute, name: names[0] }));
    return names;
  }

  one(op: string, inputs: string[], attrs: Record<string, Attr> = {}): string {
    return this.node(op, inputs, attrs)[0];
  }

  floats(name: string, dims: number[], values: Float32Array | number[]): string {
    this.initializers.push(onnx.TensorProto.create({ name, dims, dataType: FLOAT, rawData: new Uint8Array(Float32Array.from(values).buffer) }));
    return name;
  }

  ints(name: string, dims: number[], values: number[]): string {
    this.initializers.push(onnx.TensorProto.create({ name, dims, dataType: INT64, rawData: new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer) }));
    return name;
  }
}

/** Reorders the gate blocks of a [rows, 4H] Keras matrix into ONNX's [4H, rows] layout. */
function onnxGates(values: Float32Array, rows: number, h: number): Float32Array {
  const out = new Float32Array(4 * h * rows);
  ONNX_GATE_ORDER.forEach((gate, block) => {
    for (let j = 0; j < h; j++) for (let r = 0; r < rows; r++) out[(block * h + j) * rows + r] = values[r * 4 * h + gate * h + j];
  });
  return out;
}

function onnxBias(values: Float32Array, h: number): Float32Array {
  const out = new Float32Array(8 * h); // W-bias then R-bias; the whole bias goes into W-bias
  ONNX_GATE_ORDER.forEach((gate, block) => out.set(values.subarray(gate * h, (gate + 1) * h), block * h));
  return out;
}

/**
 * The tower as an ONNX graph: Gather (embedding) -> ONNX LSTM per layer (sequence_lens gives
 * each row its true length, both directions) -> pooling -> projection, exactly as encoder.ts
 * computes it. Inputs: ids int64 [N, T], lengths int32 [N]; output: embedding float [N, D].
 */
export function exportOnnx(config: ModelConfig, weights: WeightMap, modelId: string): Uint8Array {
  const g = new GraphBuilder();
  const w = (name: string) => {
    const v = weights.get(name);
    if (!v) throw new DoppelError('MODEL_ERROR', `missing weight ${name}`);
    return v;
  };
  const H = config.hiddenUnits;
  const dirs = config.bidirectional ? ['fw', 'bw'] : ['fw'];
  const emb = w('embedding');
  g.floats('word_embeddings', emb.shape, emb.values);
  let x = g.one('Transpose', [g.one('Gather', ['word_embeddings', 'ids'], { axis: 0 })], { perm: [1, 0, 2] }); // [T, N, E]
  let lastStates = '';
  for (let l = 0; l < config.layers; l++) {
    const inputDim = l === 0 ? config.embeddingDim : H * dirs.length;
    const W = dirs.map((d) => onnxGates(w(`lstm${l}.${d}.kernel`).values, inputDim, H));
    const R = dirs.map((d) => onnxGates(w(`lstm${l}.${d}.recurrent`).values, H, H));
    const B = dirs.map((d) => onnxBias(w(`lstm${l}.${d}.bias`).values, H));
    const concat = (parts: Float32Array[]) => Float32Array.from(parts.flatMap((p) => Array.from(p)));
    g.floats(`lstm${l}.W`, [dirs.length, 4 * H, inputDim], concat(W));
    g.floats(`lstm${l}.R`, [dirs.length, 4 * H, H], concat(R));
    g.floats(`lstm${l}.B`, [dirs.length, 8 * H], concat(B));
    const [y, yh] = g.node('LSTM', [x, `lstm${l}.W`, `lstm${l}.R`, `lstm${l}.B`, 'lengths'], { hidden_size: H, direction: config.bidirectional ? 'bidirectional' : 'forward' }, 2);
    lastStates = yh; // [dirs, N, H]
    // [T, dirs, N, H] -> [T, N, dirs * H]: forward features first, as encoder.ts concatenates them.
    x = g.one('Reshape', [g.one('Transpose', [y], { perm: [0, 2, 1, 3] }), g.ints(`shape${l}`, [3], [0, 0, -1])]);
  }
  let pooled: string;
  if (config.pooling === 'last') {
    pooled = g.one('Reshape', [g.one('Transpose', [lastStates], { perm: [1, 0, 2] }), g.ints('shape_last', [2], [0, -1])]);
  } else {
    // mask[t, n] = t < lengths[n], as [T, N, 1] floats.
    const T = g.one('Gather', [g.one('Shape', ['ids']), g.ints('one', [], [1])], { axis: 0 });
    const steps = g.one('Unsqueeze', [g.one('Range', [g.ints('zero', [], [0]), T, g.ints('step', [], [1])]), g.ints('axis1', [1], [1])]);
    const lens = g.one('Unsqueeze', [g.one('Cast', ['lengths'], { to: INT64 }), g.ints('axis0', [1], [0])]);
    const mask = g.one('Unsqueeze', [g.one('Cast', [g.one('Less', [steps, lens])], { to: FLOAT }), g.ints('axis2', [1], [2])]);
    if (config.pooling === 'mean') {
      const sum = g.one('ReduceSum', [g.one('Mul', [x, mask]), g.ints('axes0', [1], [0])], { keepdims: 0 });
      const lensF = g.one('Unsqueeze', [g.one('Cast', ['lengths'], { to: FLOAT }), g.ints('axis1b', [1], [1])]);
      pooled = g.one('Div', [sum, lensF]);
    } else {
      const penalty = g.one('Mul', [g.one('Sub', [mask, g.floats('onef', [], [1])]), g.floats('big', [], [1e4])]);
      pooled = g.one('ReduceMax', [g.one('Add', [x, penalty])], { axes: [0], keepdims: 0 });
    }
  }
  if (config.projection > 0) {
    const k = w('projection.kernel');
    const b = w('projection.bias');
    pooled = g.one('Add', [g.one('MatMul', [pooled, g.floats('projection.kernel', k.shape, k.values)]), g.floats('projection.bias', b.shape, b.values)]);
  }
  g.node('Identity', [pooled], {}, ['embedding']);
  const dim = (name: string) => onnx.TensorShapeProto.Dimension.create({ dimParam: name });
  const value = (name: string, type: number, dims: InstanceType<typeof onnx.TensorShapeProto.Dimension>[]) =>
    onnx.ValueInfoProto.create({ name, type: onnx.TypeProto.create({ tensorType: onnx.TypeProto.Tensor.create({ elemType: type, shape: onnx.TensorShapeProto.create({ dim: dims }) }) }) });
  const outDim = config.projection > 0 ? config.projection : H * dirs.length;
  const graph = onnx.GraphProto.create({
    name: 'doppel_tower',
    node: g.nodes,
    initializer: g.initializers,
    input: [value('ids', INT64, [dim('batch'), dim('time')]), value('lengths', INT32, [dim('batch')])],
    output: [value('embedding', FLOAT, [dim('batch'), onnx.TensorShapeProto.Dimension.create({ dimValue: outDim })])],
  });
  const model = onnx.ModelProto.create({
    irVersion: 7,
    producerName: 'doppel',
    opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: OPSET })],
    graph,
    metadataProps: [onnx.StringStringEntryProto.create({ key: 'doppel_model_id', value: modelId })],
  });
  return onnx.ModelProto.encode(model).finish();
}
