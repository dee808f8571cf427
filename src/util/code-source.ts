import { BASE36_PAIR } from './base36.js';

/**
 * A generator of identifiers (rrn, authCode) that makes no string per
 * identifier: next() moves it on, and the identifier is `head` followed by
 * the base-36 pair number `tail` (BASE36_PAIR), or `head` alone when tail is
 * -1. The head changes once per 1,296 identifiers and is shared by them, so
 * a record can keep its identifiers as (head, tail) without a string of its
 * own: keeping those strings was a large part of what a kept record cost
 * (docs/performance-log.md).
 */
export interface CodeSource {
  /** Moves on to the next identifier; `nowMs` is the caller's clock reading (rrn: its second). */
  next(nowMs: number): void;
  readonly head: string;
  readonly tail: number;
}

/** The identifier (head, tail) as a string. */
export function codeString(head: string, tail: number): string {
  return tail < 0 ? head : head + BASE36_PAIR[tail]!;
}

/** A CodeSource over a function that returns whole identifiers (tests, tools): tail is always -1. */
export function stringCodeSource(nextCode: (nowMs: number) => string): CodeSource {
  const source = {
    head: '',
    tail: -1,
    next(nowMs: number): void {
      source.head = nextCode(nowMs);
    },
  };
  return source;
}
