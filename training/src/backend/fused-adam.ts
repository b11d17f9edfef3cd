// Adam with each variable's update in one kernel (see fused-update-kernels.ts). tfjs' AdamOptimizer
// spends about fifteen kernel launches and allocations per variable per step; this one spends one. Each
// element goes through the same float32 operations in the same order as tfjs' formula, so the results
// are tfjs' bit for bit, and the state (iterations, `<variable>/m`, `<variable>/v`) is tfjs' own: a
// checkpoint written by either optimizer loads into the other.
import * as tf from '@tensorflow/tfjs-core';
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import {
  add,
  byteOffset,
  f32x4,
  F32,
  get,
  heapInstance,
  I32,
  load,
  loop,
  set,
  store,
  tee,
  V128,
  type Bytes,
  type WasmFunction,
} from './wasm-assembler.js';
import { floatHeap, type WasmBackend } from './wasm-backend.js';
import {
  activeBackendHasKernel,
  gradientsInOrder,
  registerFusedUpdateKernel,
  runFusedUpdate,
  slotFor,
  type FusedUpdateKernel,
  type OptimizerSlot,
} from './fused-update-kernels.js';

export const ADAM_UPDATE = 'GantryAdamUpdate';

interface AdamAttrs {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

const f = Math.fround;

/**
 * The float32 scalars of tfjs' formula, made as tfjs makes them from the JavaScript numbers: 1 − β1 is
 * rounded once, not computed from a rounded β1.
 */
function scalars(
  attrs: NamedAttrMap,
  oneMinusAccBeta1: number,
  oneMinusAccBeta2: number,
): [number, number, number, number, number, number, number, number] {
  const { learningRate, beta1, beta2, epsilon } = attrs as unknown as AdamAttrs;
  return [f(beta1), f(1 - beta1), f(beta2), f(1 - beta2), f(epsilon), f(-learningRate), oneMinusAccBeta1, oneMinusAccBeta2];
}

/**
 * adam(x, m, v, g, newX, newM, newV, bytes, ...scalars): the update below, four elements at a time, for
 * the first `bytes` bytes (a multiple of 16) of float32 arrays at those heap offsets.
 */
function adamCode(): Bytes {
  const [x, m, v, g, xOut, mOut, vOut, bytes] = [0, 1, 2, 3, 4, 5, 6, 7];
  const firstScalar = 8;
  const i = 16;
  const [b1, b1Complement, b2, b2Complement, eps, step, c1, c2] = [17, 18, 19, 20, 21, 22, 23, 24];
  const [gi, mi, vi] = [25, 26, 27];
  const at = (array: number): Bytes => [...get(array), ...get(i), ...add];
  const splats = [b1, b1Complement, b2, b2Complement, eps, step, c1, c2].flatMap((lanes, k) => [
    ...get(firstScalar + k),
    ...f32x4.splat,
    ...set(lanes),
  ]);
  const body: Bytes = [
    ...at(g),
    ...load,
    ...set(gi),
    ...at(mOut),
    ...at(m),
    ...load,
    ...get(b1),
    ...f32x4.mul,
    ...get(gi),
    ...get(b1Complement),
    ...f32x4.mul,
    ...f32x4.add,
    ...tee(mi),
    ...store,
    ...at(vOut),
    ...at(v),
    ...load,
    ...get(b2),
    ...f32x4.mul,
    ...get(gi),
    ...get(gi),
    ...f32x4.mul,
    ...get(b2Complement),
    ...f32x4.mul,
    ...f32x4.add,
    ...tee(vi),
    ...store,
    ...at(xOut),
    ...get(mi),
    ...get(c1),
    ...f32x4.div,
    ...get(vi),
    ...get(c2),
    ...f32x4.div,
    ...f32x4.sqrt,
    ...get(eps),
    ...f32x4.add,
    ...f32x4.div,
    ...get(step),
    ...f32x4.mul,
    ...at(x),
    ...load,
    ...f32x4.add,
    ...store,
  ];
  return [...splats, ...loop(i, bytes, 16, body)];
}

const adamModule: WasmFunction[] = [
  {
    name: 'adam',
    params: [I32, I32, I32, I32, I32, I32, I32, I32, F32, F32, F32, F32, F32, F32, F32, F32],
    locals: [
      [1, I32],
      [11, V128],
    ],
    code: adamCode(),
  },
];

interface AdamExports {
  adam(...offsetsBytesAndScalars: number[]): void;
}

/**
 * tfjs' Adam step for one variable, element by element, each operation rounded to float32 as tfjs'
 * kernels round it; on wasm by SIMD but for the last elements.
 */
const adamKernel: FusedUpdateKernel = {
  name: ADAM_UPDATE,
  inputs: ['value', 'm', 'v', 'gradient'],
  scalars: ['oneMinusAccBeta1', 'oneMinusAccBeta2'],
  outputs: 3,
  updateOnHeap(backend: WasmBackend, inputs: TensorInfo[], outputs: TensorInfo[], attrs: NamedAttrMap): number {
    const module = heapInstance<AdamExports>(backend, adamModule);
    if (module === undefined) return 0;
    const size = tf.util.sizeFromShape(inputs[0]!.shape);
    const vectorised = size - (size % 4);
    const [c1, c2] = [floatHeap(backend, inputs[4]!)[0]!, floatHeap(backend, inputs[5]!)[0]!];
    const arrays = [...inputs.slice(0, 4), ...outputs].map((info) => byteOffset(backend, info));
    module.adam(...arrays, vectorised * 4, ...scalars(attrs, c1, c2));
    return vectorised;
  },
  update([x, m, v, g, oneMinusAccBeta1, oneMinusAccBeta2], [xOut, mOut, vOut], attrs: NamedAttrMap, from: number) {
    const [b1, b1Complement, b2, b2Complement, eps, step, c1, c2] = scalars(attrs, oneMinusAccBeta1![0]!, oneMinusAccBeta2![0]!);
    for (let i = from; i < x!.length; i++) {
      const gi = g![i]!;
      const mi = f(f(m![i]! * b1) + f(gi * b1Complement));
      const vi = f(f(v![i]! * b2) + f(f(gi * gi) * b2Complement));
      mOut![i] = mi;
      vOut![i] = vi;
      const mHat = f(mi / c1);
      const vHat = f(vi / c2);
      xOut![i] = f(f(mHat / f(f(Math.sqrt(vHat)) + eps)) * step) + x![i]!;
    }
  },
};

/** The AdamOptimizer fields this subclass works on (private in tfjs' typings, so named here). */
interface AdamState {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: OptimizerSlot[];
  accumulatedSecondMoment: OptimizerSlot[];
}

/**
 * tf.train.adam with fused updates on the cpu and wasm backends (tfjs' own path elsewhere). Same class
 * name, configuration and weights as tfjs' Adam.
 */
export class FusedAdamOptimizer extends tf.AdamOptimizer {
  constructor(learningRate: number, beta1 = 0.9, beta2 = 0.999, epsilon?: number) {
    super(learningRate, beta1, beta2, epsilon);
    registerFusedUpdateKernel(adamKernel);
  }

  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    if (!activeBackendHasKernel(ADAM_UPDATE)) {
      super.applyGradients(variableGradients);
      return;
    }
    const state = this as unknown as AdamState;
    const attrs: AdamAttrs = { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
    tf.tidy(() => {
      const oneMinusAccBeta1 = tf.sub(1, state.accBeta1);
      const oneMinusAccBeta2 = tf.sub(1, state.accBeta2);
      gradientsInOrder(variableGradients).forEach(({ variable, gradient }, i) => {
        const m = slotFor(state.accumulatedFirstMoment, i, variable, 'm');
        const v = slotFor(state.accumulatedSecondMoment, i, variable, 'v');
        if (gradient === undefined) return;
        const [newValue, newM, newV] = runFusedUpdate(
          ADAM_UPDATE,
          { value: variable, m, v, gradient, oneMinusAccBeta1, oneMinusAccBeta2 },
          { ...attrs },
        );
        m.assign(newM!);
        v.assign(newV!);
        variable.assign(newValue!);
      });
      state.accBeta1.assign(tf.mul(state.accBeta1, this.beta1));
      state.accBeta2.assign(tf.mul(state.accBeta2, this.beta2));
    });
    this.incrementIterations();
  }
}
