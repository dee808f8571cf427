import type { Redis } from 'ioredis';

/** One journal stream entry: its id, split for ordering, and its field `d` (the records, undecoded). */
export interface JournalStreamEntry {
  readonly id: string;
  readonly ms: number;
  readonly seq: number;
  readonly data: Buffer;
}

/**
 * One log partition's journal entries within a range, a page (XRANGE COUNT)
 * at a time: at most the page being read and the next one are in memory.
 * The next page is asked for as soon as the current one arrives, so Redis
 * answers while the caller works through this one.
 */
export class PartitionPages {
  private page: JournalStreamEntry[] = [];
  private at = 0;
  private next: Promise<JournalStreamEntry[]> | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly streamKey: string,
    readonly partition: number,
    private start: string,
    private readonly end: string,
    private readonly entriesPerPage: number,
  ) {
    this.next = this.prefetch();
  }

  /** The entry to read next; undefined once the range is read (after `load()` says so). */
  get head(): JournalStreamEntry | undefined {
    return this.page[this.at];
  }

  /** Moves past the head. Call `load()` when `head` is undefined afterwards. */
  advance(): void {
    this.at++;
  }

  /** Loads the next page when the current one is read; false when the range holds no more. */
  async load(): Promise<boolean> {
    while (this.at >= this.page.length) {
      if (this.next === undefined) return false;
      this.page = await this.next;
      this.at = 0;
      const last = this.page[this.page.length - 1];
      // A short page is the range's last: nothing more to ask for.
      if (last === undefined || this.page.length < this.entriesPerPage) this.next = undefined;
      else {
        this.start = `(${last.id}`;
        this.next = this.prefetch();
      }
    }
    return true;
  }

  /**
   * The next page, asked for now and awaited later: marked handled so a
   * reader that stops early leaves no unhandled rejection behind (awaiting it
   * still throws).
   */
  private prefetch(): Promise<JournalStreamEntry[]> {
    const page = this.read();
    page.catch(() => undefined);
    return page;
  }

  private async read(): Promise<JournalStreamEntry[]> {
    const entries = await this.redis.xrangeBuffer(
      this.streamKey,
      this.start,
      this.end,
      'COUNT',
      this.entriesPerPage,
    );
    return entries.map(([id, fields]) => this.entryOf(id.toString('latin1'), fields));
  }

  private entryOf(id: string, fields: Buffer[]): JournalStreamEntry {
    // XADD key * d <data>: the fields are ['d', data].
    const name = fields[0];
    const data = fields[1];
    if (name === undefined || data === undefined || name.length !== 1 || name[0] !== 0x64 /* d */)
      throw new Error(`journal entry ${this.streamKey} ${id} has no field d`);
    const dash = id.indexOf('-');
    // Sequence numbers stay far below 2^53 (one per entry within one ms of one stream).
    return { id, ms: Number(id.slice(0, dash)), seq: Number(id.slice(dash + 1)), data };
  }
}
