// RMSProp (WGAN's optimizer) with each variable's update in one kernel, as fused-adam.ts does for Adam:
// the same float32 operations in the same order as tfjs' RMSPropOptimizer, plain and centered, so the
// results are tfjs' bit for bit, and the state (iterations, `<variable>/rms`, `<variable>/momentum`,
// centered: `<variable>/mg`) is tfjs' own.
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
import type { WasmBackend } from './wasm-backend.js';
import {
  activeBackendHasKernel,
  gradientsInOrder,
  registerFusedUpdateKernel,
  runFusedUpdate,
  slotFor,
  type FusedUpdateKernel,
  type OptimizerSlot,
} from './fused-update-kernels.js';

export const RMSPROP_UPDATE = 'GantryRMSPropUpdate';
export const CENTERED_RMSPROP_UPDATE = 'GantryCenteredRMSPropUpdate';

interface RMSPropAttrs {
  learningRate: number;
  decay: number;
  momentum: number;
  epsilon: number;
}

const f = Math.fround;

/** The float32 scalars of tfjs' formula, made as tfjs makes them (1 − decay rounded once). */
function scalars(attrs: NamedAttrMap): [number, number, number, number, number] {
  const { learningRate, decay, momentum, epsilon } = attrs as unknown as RMSPropAttrs;
  return [f(decay), f(1 - decay), f(momentum), f(learningRate), f(epsilon)];
}

/**
 * rmsprop(x, ms, mom, g[, mg], newX, newMs, newMom[, newMg], bytes, ...scalars): the update below, four
 * elements at a time, for the first `bytes` bytes (a multiple of 16) of float32 arrays at those offsets.
 */
function rmspropFunction(centered: boolean): WasmFunction {
  const [x, ms, mom, g, mg] = [0, 1, 2, 3, 4];
  const firstOutput = centered ? 5 : 4;
  const [xOut, msOut, momOut, mgOut] = [firstOutput, firstOutput + 1, firstOutput + 2, firstOutput + 3];
  const arrays = centered ? 9 : 7;
  const bytes = arrays;
  const firstScalar = arrays + 1;
  const i = firstScalar + 5;
  const [decay, decayComplement, momentum, learningRate, eps, gi, msi, momi, mgi] = [
    i + 1,
    i + 2,
    i + 3,
    i + 4,
    i + 5,
    i + 6,
    i + 7,
    i + 8,
    i + 9,
  ];
  const at = (array: number): Bytes => [...get(array), ...get(i), ...add];
  const splats = [decay, decayComplement, momentum, learningRate, eps].flatMap((lanes, k) => [
    ...get(firstScalar + k),
    ...f32x4.splat,
    ...set(lanes),
  ]);
  const denominator: Bytes = centered
    ? [...get(msi), ...get(mgi), ...get(mgi), ...f32x4.mul, ...get(eps), ...f32x4.add, ...f32x4.sub, ...f32x4.sqrt]
    : [...get(msi), ...get(eps), ...f32x4.add, ...f32x4.sqrt];
  const body: Bytes = [
    ...at(g),
    ...load,
    ...set(gi),
    ...at(msOut),
    ...at(ms),
    ...load,
    ...get(decay),
    ...f32x4.mul,
    ...get(gi),
    ...get(gi),
    ...f32x4.mul,
    ...get(decayComplement),
    ...f32x4.mul,
    ...f32x4.add,
    ...tee(msi),
    ...store,
    ...(centered
      ? [
          ...at(mgOut),
          ...at(mg),
          ...load,
          ...get(decay),
          ...f32x4.mul,
          ...get(gi),
          ...get(decayComplement),
          ...f32x4.mul,
          ...f32x4.add,
          ...tee(mgi),
          ...store,
        ]
      : []),
    ...at(momOut),
    ...at(mom),
    ...load,
    ...get(momentum),
    ...f32x4.mul,
    ...get(gi),
    ...get(learningRate),
    ...f32x4.mul,
    ...denominator,
    ...f32x4.div,
    ...f32x4.add,
    ...tee(momi),
    ...store,
    ...at(xOut),
    ...at(x),
    ...load,
    ...get(momi),
    ...f32x4.sub,
    ...store,
  ];
  return {
    name: 'rmsprop',
    params: [...Array<number>(arrays + 1).fill(I32), ...Array<number>(5).fill(F32)],
    locals: [
      [1, I32],
      [9, V128],
    ],
    code: [...splats, ...loop(i, bytes, 16, body)],
  };
}

interface RMSPropExports {
  rmsprop(...offsetsBytesAndScalars: number[]): void;
}

/** tfjs' RMSProp step for one variable, element by element, each operation rounded to float32 as tfjs' kernels round it. */
function rmspropKernel(centered: boolean): FusedUpdateKernel {
  const module: WasmFunction[] = [rmspropFunction(centered)];
  return {
    name: centered ? CENTERED_RMSPROP_UPDATE : RMSPROP_UPDATE,
    inputs: centered ? ['value', 'ms', 'mom', 'gradient', 'mg'] : ['value', 'ms', 'mom', 'gradient'],
    scalars: [],
    outputs: centered ? 4 : 3,
    updateOnHeap(backend: WasmBackend, inputs: TensorInfo[], outputs: TensorInfo[], attrs: NamedAttrMap): number {
      const exports = heapInstance<RMSPropExports>(backend, module);
      if (exports === undefined) return 0;
      const size = tf.util.sizeFromShape(inputs[0]!.shape);
      const vectorised = size - (size % 4);
      exports.rmsprop(...[...inputs, ...outputs].map((info) => byteOffset(backend, info)), vectorised * 4, ...scalars(attrs));
      return vectorised;
    },
    update([x, ms, mom, g, mg], [xOut, msOut, momOut, mgOut], attrs: NamedAttrMap, from: number) {
      const [decay, decayComplement, momentum, learningRate, eps] = scalars(attrs);
      for (let i = from; i < x!.length; i++) {
        const gi = g![i]!;
        const msi = f(f(ms![i]! * decay) + f(f(gi * gi) * decayComplement));
        msOut![i] = msi;
        let denominator: number;
        if (centered) {
          const mgi = f(f(mg![i]! * decay) + f(gi * decayComplement));
          mgOut![i] = mgi;
          denominator = f(Math.sqrt(f(msi - f(f(mgi * mgi) + eps))));
        } else {
          denominator = f(Math.sqrt(f(msi + eps)));
        }
        const momi = f(f(mom![i]! * momentum) + f(f(gi * learningRate) / denominator));
        momOut![i] = momi;
        xOut![i] = x![i]! - momi;
      }
    },
  };
}

const kernels = { plain: rmspropKernel(false), centered: rmspropKernel(true) };

/** The RMSPropOptimizer fields this subclass works on (private in tfjs' typings, so named here). */
interface RMSPropState {
  centered: boolean;
  accumulatedMeanSquares: OptimizerSlot[];
  accumulatedMoments: OptimizerSlot[];
  accumulatedMeanGrads: OptimizerSlot[];
}

/**
 * tf.train.rmsprop with fused updates on the cpu and wasm backends (tfjs' own path elsewhere). Same
 * class name, configuration and weights as tfjs' RMSProp.
 */
export class FusedRMSPropOptimizer extends tf.RMSPropOptimizer {
  constructor(learningRate: number, decay = 0.9, momentum = 0, epsilon?: number, centered = false) {
    super(learningRate, decay, momentum, epsilon, centered);
    registerFusedUpdateKernel(kernels.plain);
    registerFusedUpdateKernel(kernels.centered);
  }

  override applyGradients(variableGradients: Parameters<tf.RMSPropOptimizer['applyGradients']>[0]): void {
    const state = this as unknown as RMSPropState;
    const kernel = state.centered ? CENTERED_RMSPROP_UPDATE : RMSPROP_UPDATE;
    if (!activeBackendHasKernel(kernel)) {
      super.applyGradients(variableGradients);
      return;
    }
    const attrs: RMSPropAttrs = {
      learningRate: this.learningRate,
      decay: this.decay,
      momentum: this.momentum,
      epsilon: this.epsilon,
    };
    gradientsInOrder(variableGradients).forEach(({ variable, gradient }, i) => {
      const ms = slotFor(state.accumulatedMeanSquares, i, variable, 'rms');
      const mom = slotFor(state.accumulatedMoments, i, variable, 'momentum');
      const mg = state.centered ? slotFor(state.accumulatedMeanGrads, i, variable, 'mg') : undefined;
      if (gradient === undefined) return;
      tf.tidy(() => {
        const inputs = { value: variable, ms, mom, gradient, ...(mg === undefined ? {} : { mg }) };
        const [newValue, newMs, newMom, newMg] = runFusedUpdate(kernel, inputs, { ...attrs });
        ms.assign(newMs!);
        mom.assign(newMom!);
        if (mg !== undefined) mg.assign(newMg!);
        variable.assign(newValue!);
      });
    });
    this.incrementIterations();
  }
}
