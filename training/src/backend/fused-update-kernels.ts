// Kernels that update an optimizer's state in one pass over float32 arrays. tfjs' optimizers build each
// variable's update from a dozen element-wise ops: on wasm each is a kernel launch, a fresh allocation
// and a full pass over the weights. A fused kernel reads every input once and writes each output once,
// on the cpu backend (its Float32Arrays) and on the wasm backend (views of its heap) alike, from one
// JavaScript loop per optimizer; on wasm a SIMD loop may do all but the last few elements. Outputs are
// always new buffers: a variable's buffer may be shared (on wasm, Identity and Cast alias their input),
// so it is never written in place.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendValues, DataType, KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { floatHeap, type WasmBackend } from './wasm-backend.js';

/** The backends with a fused-update kernel implementation. */
const fusedBackends = ['cpu', 'wasm'] as const;

export interface FusedUpdateKernel {
  /** The kernel's name, as tf.engine().runKernel takes it. */
  name: string;
  /** The element-wise inputs, all of one size, in the order `update` receives them. */
  inputs: readonly string[];
  /** Scalar inputs (one element each), received after `inputs`. */
  scalars: readonly string[];
  /** How many outputs, each the size and shape of the first input. */
  outputs: number;
  /** Writes the elements from `from` on of `outputs` from the inputs (all float32, never aliasing an output). */
  update(inputs: Float32Array[], outputs: Float32Array[], attrs: NamedAttrMap, from: number): void;
  /**
   * On wasm, writes the outputs' first elements on the heap as `update` would (by SIMD) and says how
   * many; `update` does the rest. Returns 0 where it cannot run.
   */
  updateOnHeap?(backend: WasmBackend, inputs: TensorInfo[], outputs: TensorInfo[], attrs: NamedAttrMap): number;
}

interface CpuBackend {
  data: { get(dataId: object): { values?: BackendValues } };
  makeTensorInfo(shape: number[], dtype: DataType, values: BackendValues): TensorInfo;
}

/** The inputs, then the scalars, checked: the loops trust their sizes. */
function checkedInputs(kernel: FusedUpdateKernel, inputs: Record<string, TensorInfo | undefined>): TensorInfo[] {
  const names = [...kernel.inputs, ...kernel.scalars];
  const infos = names.map((name) => {
    const info = inputs[name];
    if (info === undefined) throw new Error(`${kernel.name}: input "${name}" is missing`);
    if (info.dtype !== 'float32') throw new TypeError(`${kernel.name}: input "${name}" must be float32, got ${info.dtype}`);
    return info;
  });
  const shape = infos[0]!.shape;
  infos.forEach((info, i) => {
    const elementwise = i < kernel.inputs.length;
    // Element-wise inputs must agree in shape, not only in size: a transposed gradient would otherwise be applied silently.
    if (elementwise ? !tf.util.arraysEqual(info.shape, shape) : tf.util.sizeFromShape(info.shape) !== 1) {
      const what = elementwise ? `the shape of "${names[0]}" [${shape.join(', ')}]` : 'a scalar';
      throw new RangeError(`${kernel.name}: input "${names[i]}" has shape [${info.shape.join(', ')}], but must be ${what}`);
    }
  });
  return infos;
}

/** What tfjs hands a fused-update kernel (several outputs, so not wasm-backend.ts's one-output WasmKernelArgs). */
interface FusedKernelArgs {
  inputs: Record<string, TensorInfo | undefined>;
  attrs: NamedAttrMap;
  backend: unknown;
}

function wasmKernel(kernel: FusedUpdateKernel) {
  return ({ inputs, attrs, backend }: FusedKernelArgs): TensorInfo[] => {
    const wasm = backend as WasmBackend;
    const infos = checkedInputs(kernel, inputs);
    // Every allocation may grow the heap and detach earlier views: allocate first, then view.
    const outs = Array.from({ length: kernel.outputs }, () => wasm.makeOutput([...infos[0]!.shape], 'float32'));
    const done = kernel.updateOnHeap?.(wasm, infos, outs, attrs) ?? 0;
    if (done < tf.util.sizeFromShape(infos[0]!.shape)) {
      kernel.update(
        infos.map((info) => floatHeap(wasm, info)),
        outs.map((info) => floatHeap(wasm, info)),
        attrs,
        done,
      );
    }
    return outs;
  };
}

function cpuKernel(kernel: FusedUpdateKernel) {
  return ({ inputs, attrs, backend }: FusedKernelArgs): TensorInfo[] => {
    const cpu = backend as CpuBackend;
    const infos = checkedInputs(kernel, inputs);
    const values = infos.map((info) => cpu.data.get(info.dataId).values as Float32Array);
    const size = tf.util.sizeFromShape(infos[0]!.shape);
    const outs = Array.from({ length: kernel.outputs }, () => new Float32Array(size));
    kernel.update(values, outs, attrs, 0);
    return outs.map((out) => cpu.makeTensorInfo([...infos[0]!.shape], 'float32', out));
  };
}

/** Registers `kernel` on the cpu and wasm backends (idempotent). */
export function registerFusedUpdateKernel(kernel: FusedUpdateKernel): void {
  for (const backendName of fusedBackends) {
    if (tf.getKernel(kernel.name, backendName) !== undefined) continue;
    const kernelFunc = backendName === 'wasm' ? wasmKernel(kernel) : cpuKernel(kernel);
    tf.registerKernel({ kernelName: kernel.name, backendName, kernelFunc: kernelFunc as unknown as KernelConfig['kernelFunc'] });
  }
}

/** Whether the active backend runs `name` (else an optimizer takes tfjs' own, op-by-op path). */
export function activeBackendHasKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

/** Runs a fused-update kernel on tensors: its outputs, in order. */
export function runFusedUpdate(name: string, inputs: Record<string, tf.Tensor>, attrs: NamedAttrMap): tf.Tensor[] {
  return tf.engine().runKernel(name, inputs, attrs) as unknown as tf.Tensor[];
}

type VariableGradients = Parameters<tf.Optimizer['applyGradients']>[0];

/** Each variable an optimizer updates, by its position in `variableGradients` (tfjs keys its slots by that position). */
export function gradientsInOrder(
  variableGradients: VariableGradients,
): { variable: tf.Variable; gradient: tf.Tensor | undefined }[] {
  const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
  return names.map((name, i) => {
    const variable = tf.engine().registeredVariables[name];
    if (variable === undefined) throw new Error(`optimizer: no variable named "${name}" is registered`);
    const gradient = Array.isArray(variableGradients) ? variableGradients[i]?.tensor : variableGradients[name];
    return { variable, gradient: gradient ?? undefined };
  });
}

/** An optimizer's per-variable state, named as tfjs names it (e.g. `dense/kernel/m`). */
export interface OptimizerSlot {
  originalName: string;
  variable: tf.Variable;
}

/** The slot `slots[i]`, created as zeros like `variable` (not trainable) on first use, as tfjs does. */
export function slotFor(slots: OptimizerSlot[], i: number, variable: tf.Variable, suffix: string): tf.Variable {
  slots[i] ??= { originalName: `${variable.name}/${suffix}`, variable: tf.tidy(() => tf.zerosLike(variable).variable(false)) };
  return slots[i].variable;
}
