import { RC } from '../../protocol/rc.js';
import { type CodeSource, codeString } from '../../util/code-source.js';
import type { AdminOutcome, WorkItem, WorkResult } from '../worker/worker-protocol.js';

/**
 * The answers an owner gives without a decision: 96 (retry) for work that
 * failed with its batch or could not run, and the rrn of such an answer
 * (and of the 14 for an account this switch does not hold).
 */
export class FailedResults {
  constructor(
    private readonly rrns: CodeSource,
    private readonly now: () => number,
  ) {}

  /** An rrn as a string, for the answers decided outside the rules (14, 96). */
  nextRrn(): string {
    this.rrns.next(this.now());
    return codeString(this.rrns.head, this.rrns.tail);
  }

  /** The failure answer of a result decided in a batch that will never be confirmed. */
  forResult(result: WorkResult): WorkResult {
    switch (result.k) {
      case 'txn':
        return { seq: result.seq, k: 'txn', response: { rc: RC.systemMalfunction, rrn: this.nextRrn() } };
      case 'admin':
        return { seq: result.seq, k: 'admin', outcome: storeUnavailable() };
      case 'expire':
      case 'sweep':
      case 'rotation':
        return { seq: result.seq, k: result.k, outcome: 'retry' };
      case 'barrier':
        // Nothing of the batch is durable, which is all a barrier waits to learn.
        return result;
      case 'forward':
        // Never in a batch (posted at once); kept whole should one ever be.
        return result;
      case 'issuerAnswer':
        // Its forward's end was not made durable: the transaction's copies are answered 96 with the batch.
        return { seq: result.seq, k: 'issuerAnswer', taken: false };
    }
  }

  /** The failure answer of an item that could not run. */
  forItem(item: WorkItem): WorkResult {
    if (item.k === 'txn')
      return { seq: item.seq, k: 'txn', response: { rc: RC.systemMalfunction, rrn: this.nextRrn() } };
    if (item.k === 'expire' || item.k === 'sweep') return { seq: item.seq, k: item.k, outcome: 'retry' };
    if (item.k === 'reseal' || item.k === 'rekey') return { seq: item.seq, k: 'rotation', outcome: 'retry' };
    if (item.k === 'barrier') return { seq: item.seq, k: 'barrier' };
    if (item.k === 'issuerAnswer') return { seq: item.seq, k: 'issuerAnswer', taken: false };
    return { seq: item.seq, k: 'admin', outcome: storeUnavailable() };
  }
}

function storeUnavailable(): AdminOutcome {
  return {
    ok: false,
    code: 'store_unavailable',
    message: 'the store did not confirm the change; retry',
  };
}
