// Log lines gathered over one event-loop turn and written together. A turn that finishes a merged run
// answers every request in it, and one write (a system call, and a wake-up of whatever reads the log)
// for all their lines costs a fraction of one write per line. Lines keep their order and leave by the
// end of the turn; `flush` writes what is pending at once (shutdown, process exit).

export class TurnLines {
  private pending: string[] = [];
  private scheduled: NodeJS.Immediate | undefined;

  constructor(
    /** Receives the turn's lines, each ending in a newline, as one string. */
    private readonly write: (text: string) => void,
  ) {}

  line(text: string): void {
    this.pending.push(text);
    this.scheduled ??= setImmediate(() => this.flush());
  }

  flush(): void {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    if (this.pending.length === 0) return;
    const text = `${this.pending.join('\n')}\n`;
    this.pending = [];
    this.write(text);
  }
}

let stdoutLines: TurnLines | undefined;

/** The process's stdout as {@link TurnLines}, flushed on exit too. */
export function stdoutTurnLines(): TurnLines {
  if (stdoutLines === undefined) {
    const lines = new TurnLines((text) => process.stdout.write(text));
    process.once('exit', () => lines.flush());
    stdoutLines = lines;
  }
  return stdoutLines;
}
