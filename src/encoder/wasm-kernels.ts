/**
 * Kernel replacements that make training on the tfjs wasm backend (4.22.0, pinned) practical.
 * Each fixes a measured bottleneck of the shipped backend:
 * - UnsortedSegmentSum is missing, so the gradient of an embedding lookup (gather) cannot run;
 * - BatchMatMul only reaches XNNPACK without transposes; every matMul gradient is transposed and
 *   fell to a scalar loop (~1-3 GFLOP/s versus ~35), so transposes are made explicit;
 * - Slice/SplitV/Unpack copied the whole input out of the heap for every call;
 * - Tanh is ~15x slower than Sigmoid; tanh(x) = 2*sigmoid(2x) - 1 is exact to float rounding.
 * test/wasm-kernels.test.ts checks each against the cpu backend, values and gradients.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { DoppelError } from '../errors.js';

type TensorInfo = tf.TensorInfo;
interface KernelArgs {
  inputs: Record<string, TensorInfo>;
  attrs: Record<string, unknown>;
  backend: BackendWasm;
}
type Kernel = (args: KernelArgs) => TensorInfo | TensorInfo[];

const BACKEND = 'wasm';

function original(name: string): Kernel {
  const config = tf.getKernel(name, BACKEND);
  if (!config) throw new DoppelError('BACKEND_UNAVAILABLE', `wasm kernel ${name} is not registered`);
  return config.kernelFunc as unknown as Kernel;
}

function replace(name: string, kernelFunc: Kernel): void {
  if (tf.getKernel(name, BACKEND)) tf.unregisterKernel(name, BACKEND);
  tf.registerKernel({ kernelName: name, backendName: BACKEND, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
}

/**
 * Copies the box [begin, begin+size) of x into a new tensor of shape outShape (same element
 * count). Views of the wasm heap are taken after makeOutput, which may grow (and detach) it.
 */
function copyBox(backend: BackendWasm, x: TensorInfo, begin: number[], size: number[], outShape: number[]): TensorInfo {
  const out = backend.makeOutput(outShape, x.dtype);
  const total = tf.util.sizeFromShape(size);
  if (total === 0) return out;
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  const shape = x.shape;
  const rank = shape.length;
  const strides = tf.util.computeStrides(shape);
  // Collapse the trailing dimensions taken whole into one contiguous run.
  let k = rank - 1;
  while (k > 0 && size[k] === shape[k]) k--;
  const run = rank === 0 ? 1 : size[k] * (k + 1 < rank ? strides[k] : 1);
  if (run === total) {
    const offset = begin.reduce((acc, b, d) => acc + b * (d < rank - 1 ? strides[d] : 1), 0);
    dst.set(src.subarray(offset, offset + total));
    return out;
  }
  const index = new Array<number>(k).fill(0);
  for (let written = 0; written < total; written += run) {
    let offset = begin[k] * (k < rank - 1 ? strides[k] : 1);
    for (let d = 0; d < k; d++) offset += (begin[d] + index[d]) * strides[d];
    dst.set(src.subarray(offset, offset + run), written);
    for (let d = k - 1; d >= 0; d--) {
      if (++index[d] < size[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

function sliceKernel(fallback: Kernel): Kernel {
  return (args) => {
    const { x } = args.inputs;
    if (x.dtype === 'string') return fallback(args);
    const [begin, size] = tf.slice_util.parseSliceParams(x, args.attrs.begin as number[], args.attrs.size as number[]);
    return copyBox(args.backend, x, begin, size, size);
  };
}

const splitVKernel: Kernel = ({ inputs: { x }, attrs, backend }) => {
  const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, attrs.numOrSizeSplits as number[] | number, axis);
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((s) => {
    const size = [...x.shape];
    size[axis] = s;
    const out = copyBox(backend, x, [...begin], size, size);
    begin[axis] += s;
    return out;
  });
};

const unpackKernel: Kernel = ({ inputs: { value }, attrs, backend }) => {
  const rank = value.shape.length;
  const axis = ((attrs.axis as number) + rank) % rank;
  const outShape = value.shape.filter((_, d) => d !== axis);
  const size = [...value.shape];
  size[axis] = 1;
  return Array.from({ length: value.shape[axis] }, (_, i) => {
    const begin = new Array<number>(rank).fill(0);
    begin[axis] = i;
    return copyBox(backend, value, begin, size, outShape);
  });
};

function matMulKernel(fallback: Kernel, transpose: Kernel): Kernel {
  const swapLast = (backend: BackendWasm, x: TensorInfo): TensorInfo => {
    const r = x.shape.length;
    const perm = [...Array(r - 2).keys(), r - 1, r - 2];
    return transpose({ inputs: { x }, attrs: { perm }, backend }) as TensorInfo;
  };
  return (args) => {
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    if (!transposeA && !transposeB) return fallback(args);
    const { backend } = args;
    const a = transposeA ? swapLast(backend, args.inputs.a) : args.inputs.a;
    const b = transposeB ? swapLast(backend, args.inputs.b) : args.inputs.b;
    const out = fallback({ inputs: { a, b }, attrs: { ...args.attrs, transposeA: false, transposeB: false }, backend });
    if (transposeA) backend.disposeData(a.dataId);
    if (transposeB) backend.disposeData(b.dataId);
    return out;
  };
}

const unsortedSegmentSumKernel: Kernel = ({ inputs: { x, segmentIds }, attrs, backend }) => {
  const numSegments = attrs.numSegments as number;
  const count = tf.util.sizeFromShape(segmentIds.shape);
  const inner = count === 0 ? 0 : tf.util.sizeFromShape(x.shape) / count;
  const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
  const out = backend.makeOutput(outShape, x.dtype);
  const dst = backend.typedArrayFromHeap(out);
  const src = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(segmentIds);
  dst.fill(0);
  for (let i = 0; i < count; i++) {
    const seg = ids[i];
    if (seg < 0 || seg >= numSegments) continue; // TensorFlow drops out-of-range ids too
    const from = i * inner;
    const to = seg * inner;
    for (let j = 0; j < inner; j++) dst[to + j] += src[from + j];
  }
  return out;
};

function tanhKernel(sigmoid: Kernel): Kernel {
  return ({ inputs: { x }, backend }) => {
    const doubled = backend.makeOutput(x.shape, 'float32');
    const d = backend.typedArrayFromHeap(doubled);
    const s = backend.typedArrayFromHeap(x);
    for (let i = 0; i < d.length; i++) d[i] = 2 * s[i];
    const out = sigmoid({ inputs: { x: doubled }, attrs: {}, backend }) as TensorInfo;
    backend.disposeData(doubled.dataId);
    const o = backend.typedArrayFromHeap(out);
    for (let i = 0; i < o.length; i++) o[i] = 2 * o[i] - 1;
    return out;
  };
}

let installed = false;

/**
 * Replaces the kernels above on the (initialised) wasm backend; idempotent. With
 * DOPPEL_WASM_KERNELS=minimal only the missing UnsortedSegmentSum is added (the least that lets
 * an embedding train), so benchmarks can measure what the other replacements buy.
 */
export function installWasmKernels(): void {
  if (installed) return;
  installed = true;
  replace('UnsortedSegmentSum', unsortedSegmentSumKernel);
  if (process.env.DOPPEL_WASM_KERNELS === 'minimal') return;
  replace('Slice', sliceKernel(original('Slice')));
  replace('SplitV', splitVKernel);
  replace('Unpack', unpackKernel);
  replace('BatchMatMul', matMulKernel(original('BatchMatMul'), original('Transpose')));
  replace('Tanh', tanhKernel(original('Sigmoid')));
}
