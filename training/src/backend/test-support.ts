// Helpers the backend's tests share: the same computation on both backends, and finite differences.
import { selectBackend } from './select.js';

/** `f` run on the cpu backend (tfjs' reference kernels), then on wasm (Gantry's). */
export async function onBoth<T>(f: () => T): Promise<{ cpu: T; wasm: T }> {
  await selectBackend('cpu');
  const cpu = f();
  await selectBackend('wasm');
  const wasm = f();
  return { cpu, wasm };
}

/** (f(at + h·e_index) − f(at − h·e_index)) / 2h. */
export function centralDifference(f: (v: Float32Array) => number, at: Float32Array, index: number, h: number): number {
  const plus = at.slice();
  const minus = at.slice();
  plus[index]! += h;
  minus[index]! -= h;
  return (f(plus) - f(minus)) / (2 * h);
}
