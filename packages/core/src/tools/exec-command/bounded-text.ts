/**
 * Text that keeps at most `max` characters: its beginning and its most recent end, with a note of how
 * much was dropped between them. A command printing gigabytes must not exhaust Kiln's memory.
 */
export class BoundedText {
  private head = "";
  private tail = "";
  private dropped = 0;

  constructor(private readonly max: number) {}

  append(chunk: string): void {
    if (this.dropped === 0 && this.head.length + chunk.length <= this.max) {
      this.head += chunk;
      return;
    }
    if (this.dropped === 0 && this.tail === "") {
      // First overflow: freeze the head at half the budget; the rest becomes the rolling tail.
      const half = Math.floor(this.max / 2);
      const all = this.head + chunk;
      this.head = all.slice(0, half);
      this.tail = all.slice(half);
    } else {
      this.tail += chunk;
    }
    const keep = this.max - this.head.length;
    if (this.tail.length > keep) {
      this.dropped += this.tail.length - keep;
      this.tail = this.tail.slice(this.tail.length - keep);
    }
  }

  /** Everything kept, and empties the buffer. */
  take(): string {
    const text =
      this.dropped === 0
        ? this.head + this.tail
        : `${this.head}\n…${this.dropped} characters of output dropped…\n${this.tail}`;
    this.head = "";
    this.tail = "";
    this.dropped = 0;
    return text;
  }
}
