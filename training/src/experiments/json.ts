// JSON has no ±Infinity or NaN; results write them as the strings "Infinity", "-Infinity" and "NaN"
// and unit results are read back with those strings turned into numbers again.

export function toJson(value: unknown): string {
  return `${JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2)}\n`;
}

export function fromJson(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) =>
    v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v === 'NaN' ? NaN : v,
  );
}
