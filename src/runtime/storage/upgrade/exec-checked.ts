import type { ChainableCommander } from 'ioredis';

/**
 * Runs a MULTI/EXEC or a pipeline and throws if any of its commands failed
 * (ioredis resolves with each command's error instead): the upgrade never
 * goes on past a write it cannot confirm. Returns the replies.
 */
export async function execChecked(commands: ChainableCommander, what: string): Promise<unknown[]> {
  const result = await commands.exec();
  if (result === null) throw new Error(`${what}: the transaction was aborted`);
  return result.map(([error, reply]) => {
    if (error !== null) throw new Error(`${what}: ${error.message}`, { cause: error });
    return reply;
  });
}
