/**
 * Progress on the terminal: one permanent line per finished measurement and,
 * on a TTY, a status line rewritten in place while a task runs.
 */
export class Progress {
  private readonly tty: boolean;
  private readonly started = Date.now();
  private statusShown = false;

  constructor(private readonly out: NodeJS.WriteStream = process.stdout) {
    this.tty = out.isTTY === true;
  }

  private elapsed(): string {
    const s = Math.round((Date.now() - this.started) / 1000);
    return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
  }

  /** A transient line (TTY only): what is running now. */
  status(text: string): void {
    if (!this.tty) return;
    const cols = this.out.columns ?? 100;
    const line = `  ${this.elapsed()} … ${text}`;
    this.out.write(`\r\x1b[2K${line.length > cols - 1 ? line.slice(0, cols - 1) : line}`);
    this.statusShown = true;
  }

  private clearStatus(): void {
    if (this.statusShown) {
      this.out.write("\r\x1b[2K");
      this.statusShown = false;
    }
  }

  /** A permanent line. */
  line(text: string): void {
    this.clearStatus();
    this.out.write(`  ${this.elapsed()}   ${text}\n`);
  }

  heading(text: string): void {
    this.clearStatus();
    this.out.write(`\n== ${text}\n`);
  }
}
