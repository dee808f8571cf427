import type { ClearedItem } from './cleared-item.js';
import { CLEARING_HEADER, clearingLinesOf } from './clearing-row.js';
import { PositionTally } from './positions.js';
import type { Settlement, SettlementStatus } from './settlement.js';

/** Where one institution's lines go: a string in memory, or a file (AtomicFile). */
export interface LineSink {
  write(text: string): void;
  readonly full: boolean;
}

/**
 * Turns a cycle's items, in journal order, into each institution's file
 * (the header, then its rows in journal order: each item goes to its
 * acquirer's and its issuer's sink with that side's direction) and the
 * positions. The output depends on the items and their order alone.
 */
export class CycleRenderer<S extends LineSink> {
  private readonly sinks = new Map<string, S>();
  private readonly tally = new PositionTally();

  /** `openSink` is called once per institution, when its first item comes. */
  constructor(private readonly openSink: (institution: string) => S) {}

  /** Adds one item; true when a sink it wrote to holds a full chunk (time to flush). */
  add(item: ClearedItem): boolean {
    const lines = clearingLinesOf(item);
    const acquirer = this.sinkOf(item.acquirer);
    acquirer.write(lines.acquirer);
    const issuer = this.sinkOf(item.issuer);
    issuer.write(lines.issuer);
    this.tally.add(item);
    return acquirer.full || issuer.full;
  }

  /** Every institution's sink, by institution name. */
  institutionSinks(): [string, S][] {
    return [...this.sinks].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  settlement(cycle: number, status: SettlementStatus): Settlement {
    return { cycle, status, items: this.tally.items, positions: this.tally.positions() };
  }

  private sinkOf(institution: string): S {
    let sink = this.sinks.get(institution);
    if (sink === undefined) {
      sink = this.openSink(institution);
      sink.write(CLEARING_HEADER);
      this.sinks.set(institution, sink);
    }
    return sink;
  }
}

/** A sink that keeps its text: the pure rendering, for tests and small cycles. */
export class StringSink implements LineSink {
  private readonly parts: string[] = [];
  readonly full = false;

  write(text: string): void {
    this.parts.push(text);
  }

  text(): string {
    return this.parts.join('');
  }
}

/** A cycle's files in memory from its items in batches (as writeCycleFiles takes them): each institution's CSV text, and the settlement. */
export function renderCycle(
  items: Iterable<readonly ClearedItem[]>,
  cycle: number,
  status: SettlementStatus,
): { readonly csv: ReadonlyMap<string, string>; readonly settlement: Settlement } {
  const renderer = new CycleRenderer(() => new StringSink());
  for (const batch of items) for (const item of batch) renderer.add(item);
  return {
    csv: new Map(renderer.institutionSinks().map(([institution, sink]) => [institution, sink.text()])),
    settlement: renderer.settlement(cycle, status),
  };
}
