// `gantry experiment --set key=value`: parameter overrides typed on a command line, checked against the
// experiment's parameters and converted to each parameter's type.
import { ExperimentError } from './errors.js';

function describeKeys(value: object, prefix = ''): string[] {
  return Object.entries(value).flatMap(([k, v]) =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? describeKeys(v as object, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}

function convert(text: string, like: unknown, key: string): unknown {
  if (Array.isArray(like)) {
    const element: unknown = like[0] ?? '';
    return text === '' ? [] : text.split(',').map((part) => convert(part.trim(), element, key));
  }
  if (typeof like === 'number') {
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value))
      throw new ExperimentError(`parameter ${key} must be a number, got ${JSON.stringify(text)}`);
    return value;
  }
  if (typeof like === 'boolean') {
    if (text !== 'true' && text !== 'false')
      throw new ExperimentError(`parameter ${key} must be true or false, got ${JSON.stringify(text)}`);
    return text === 'true';
  }
  return text;
}

/** `parameters` with `overrides` applied (a deep copy); unknown keys are an error listing the known ones. */
export function applyOverrides<P extends object>(
  parameters: P,
  overrides: Readonly<Record<string, string>>,
  experiment: string,
): P {
  const copy = JSON.parse(JSON.stringify(parameters)) as P;
  for (const [key, text] of Object.entries(overrides)) {
    const path = key.split('.');
    let node = copy as Record<string, unknown>;
    for (const part of path.slice(0, -1)) {
      const next = node[part];
      if (typeof next !== 'object' || next === null || Array.isArray(next)) node = {};
      else node = next as Record<string, unknown>;
    }
    const last = path[path.length - 1]!;
    if (!(last in node) || (typeof node[last] === 'object' && node[last] !== null && !Array.isArray(node[last]))) {
      throw new ExperimentError(
        `experiment ${experiment} has no parameter ${JSON.stringify(key)}; its parameters: ${describeKeys(parameters).join(', ')}`,
      );
    }
    node[last] = convert(text, node[last], key);
  }
  return copy;
}
