/**
 * When the echo server's answers may leave: the echo server sends them at
 * the end of the event-loop turn that read their requests (the switch's
 * coalescing, with nothing else in the way); the floor server after a
 * durable write (durable-release.ts).
 */

export type Msg = Record<string, unknown>;

/** A connection's queued answers, as a release takes and sends them. */
export interface ReleasableAnswers {
  /** The answers queued since the last take(); the connection queues itself again with the next one. */
  take(): Msg[];
  /** Writes answers take() returned, in order. */
  send(responses: readonly Msg[]): void;
}

export interface AnswerRelease {
  /** `connection` has answers queued: called once until they are taken. */
  queue(connection: ReleasableAnswers): void;
  close(): Promise<void>;
}

/** Sends every queued connection's answers once per turn, after the turn's reads (setImmediate). */
export function releaseAtTurnEnd(): AnswerRelease {
  let due: ReleasableAnswers[] = [];
  const releaseNow = (): void => {
    const connections = due;
    due = [];
    for (const connection of connections) connection.send(connection.take());
  };
  return {
    queue(connection) {
      if (due.length === 0) setImmediate(releaseNow);
      due.push(connection);
    },
    close: async () => {},
  };
}
