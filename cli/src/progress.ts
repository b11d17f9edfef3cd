// A one-line progress bar for long commands: step, rate, ETA and whatever figures the caller passes.
// On a terminal it redraws in place; elsewhere (CI logs, pipes) it prints a plain line now and then
// so logs stay readable.

export interface ProgressBarOptions {
  total: number;
  label: string;
  stream?: NodeJS.WriteStream;
  /** Minimum seconds between plain-line prints when the stream is not a terminal. */
  plainIntervalSeconds?: number;
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`;
}

export class ProgressBar {
  private readonly stream: NodeJS.WriteStream;
  private readonly started = performance.now();
  private lastPlain = -Infinity;
  private startCount: number | undefined;

  constructor(private readonly options: ProgressBarOptions) {
    this.stream = options.stream ?? process.stderr;
  }

  /** `rate` is in the caller's unit (e.g. images/s); `fields` are shown as `key value`. */
  update(count: number, fields: Record<string, string> = {}): void {
    this.startCount ??= count - 1;
    const { total, label } = this.options;
    const elapsed = (performance.now() - this.started) / 1000;
    const done = count - this.startCount;
    const eta = done > 0 ? ((total - count) * elapsed) / done : NaN;
    const extras = Object.entries(fields)
      .map(([k, v]) => `${k} ${v}`)
      .join('  ');
    const width = 24;
    const filled = Math.round((Math.min(count, total) / total) * width);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    const line = `${label} ${bar} ${count}/${total}  ${extras}  ETA ${formatDuration(eta)}`;
    if (this.stream.isTTY) {
      this.stream.write(`\r${line.slice(0, (this.stream.columns ?? 120) - 1)}\x1b[K`);
    } else if (elapsed - this.lastPlain >= (this.options.plainIntervalSeconds ?? 10) || count === total) {
      this.lastPlain = elapsed;
      this.stream.write(`${line}\n`);
    }
  }

  /** Prints a message on its own line without garbling the bar. */
  log(message: string): void {
    this.stream.write(this.stream.isTTY ? `\r\x1b[K${message}\n` : `${message}\n`);
  }

  finish(): void {
    if (this.stream.isTTY) this.stream.write('\n');
  }
}
