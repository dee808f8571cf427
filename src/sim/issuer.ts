import { SwitchClient } from '../client/client.js';
import { type ClientError, isClientError } from '../client/errors.js';
import type { HandlerAnswer, SwitchMessageContext } from '../client/messages.js';
import type { SwitchClientOptions } from '../client/options.js';
import type { IssuerSimOptions } from './issuer-args.js';
import { type IssuerDecision, IssuerPolicy } from './issuer-policy.js';
import {
  formatIssuerProgressLine,
  formatIssuerSummary,
  IssuerSimStats,
  type IssuerSimSummary,
} from './issuer-stats.js';
import { seededRandom } from './rng.js';

export {
  ISSUER_SIM_USAGE,
  IssuerSimArgsError,
  type IssuerSimOptions,
  parseIssuerSimArgs,
} from './issuer-args.js';
export type { IssuerSimSummary } from './issuer-stats.js';

const PROGRESS_INTERVAL_MS = 1_000;
const CLEAR_TO_END_OF_LINE = '\x1b[K';
// The back-off jitter has its own stream: when reconnects happen must not shift the answers of a seed.
const BACKOFF_SEED_SALT = 0x0bac_c0ff;

/**
 * The issuer simulator: signs on `connections` times as one issuer (the SDK
 * client, issuer side), answers what the switch forwards as the policy
 * decides, acknowledges advices, reconnects with back-off after drops, until
 * --duration, Ctrl-C or `signal`. Then it lets the answers already scheduled
 * go out, signs off, prints the summary and returns it. Rejects when it
 * cannot start (connect or sign-on failed) and when the switch refuses a
 * sign-on again later (the summary is printed first).
 */
export async function runIssuerSim(options: IssuerSimOptions): Promise<IssuerSimSummary> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const progressOnTty = stderr.isTTY === true;
  const { connection, behaviour } = options;
  const policy = new IssuerPolicy(behaviour, seededRandom(options.seed));
  const stats = new IssuerSimStats();
  const note = (line: string): void => {
    if (options.progress) stderr.write(`${progressOnTty ? `\r${CLEAR_TO_END_OF_LINE}` : ''}sim: ${line}\n`);
  };

  const clientOptions: SwitchClientOptions = {
    transport: connection.transport,
    host: connection.host,
    port: connection.port,
    path: connection.path,
    ...(connection.tls === undefined ? {} : { tls: connection.tls }),
    institution: connection.institution,
    role: 'issuer',
    secretKey: connection.secretKey,
    requestTimeoutMs: connection.requestTimeoutMs,
    random: seededRandom(options.seed ^ BACKOFF_SEED_SALT),
    // The simulator acknowledges itself, to count acknowledgments and to withhold them (--no-ack).
    autoAcknowledgeAdvices: false,
  };
  const answers = new ScheduledAnswers(stats);
  let refused: ClientError | undefined;
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });

  const clients = Array.from({ length: options.connections }, (_, index) => {
    const client = new SwitchClient(clientOptions);
    // Requests brought by the current connection, for --drop-after; a new connection starts again.
    let requestsOnConnection = 0;
    // Set from a drop until the close: requests read from the same frame after the dropping one go unanswered.
    let dropping = false;
    client.on('disconnect', (error) => {
      requestsOnConnection = 0;
      dropping = false;
      note(`connection ${index}: ${error.message}`);
    });
    client.on('reconnect', ({ attempts }) => {
      stats.reconnects++;
      note(`connection ${index}: signed on again after ${attempts} attempt(s)`);
    });
    client.on('error', (error) => {
      note(`connection ${index}: ${error.message}`);
      // A refused sign-on ends the client's reconnecting for good; there is nothing left to simulate.
      if (isClientError(error, 'SIGNON_REFUSED')) {
        refused ??= error;
        stop();
      }
    });
    client.onRequest((request, context) => {
      stats.received++;
      if (dropping) {
        stats.lost++;
        return null;
      }
      requestsOnConnection++;
      const decision = policy.decide(request, requestsOnConnection);
      if (decision.kind === 'drop') dropping = true;
      return act(decision, client, context, stats, answers);
    });
    client.onAdvice((advice, context) => {
      stats.recordAdvice(advice.mti.endsWith('1'));
      if (behaviour.acknowledgeAdvices && context.acknowledge()) stats.advicesAcknowledged++;
    });
    return client;
  });

  const connected = await Promise.allSettled(clients.map((client) => client.connect()));
  const failure = connected.find((result) => result.status === 'rejected');
  if (failure !== undefined) {
    await Promise.all(clients.map((client) => client.close()));
    throw failure.reason;
  }

  const startedMs = performance.now();
  let interrupts = 0;
  let abortDrain: () => void = () => {};
  const onInterrupt = (): void => {
    interrupts++;
    if (interrupts === 1) {
      note('stopping: sending the answers already scheduled (Ctrl-C again to stop at once)');
      stop();
      return;
    }
    // Second Ctrl-C: no more waiting, for scheduled answers or for a sign-off the switch does not answer.
    abortDrain();
    for (const client of clients) void client.close();
  };
  if (options.handleSigint) process.on('SIGINT', onInterrupt);
  options.signal?.addEventListener('abort', stop);
  if (options.signal?.aborted === true) stop();
  const durationTimer =
    options.durationS === undefined ? undefined : setTimeout(stop, options.durationS * 1000);
  let progressLines = 0;
  const progressTimer = options.progress
    ? setInterval(() => {
        const line = formatIssuerProgressLine(stats.tick());
        stderr.write(progressOnTty ? `\r${line}${CLEAR_TO_END_OF_LINE}` : `${line}\n`);
        progressLines++;
      }, options.progressIntervalMs ?? PROGRESS_INTERVAL_MS)
    : undefined;

  try {
    await stopped;
    const elapsedMs = performance.now() - startedMs;
    await Promise.race([
      answers.drain(),
      new Promise<void>((resolve) => {
        abortDrain = resolve;
      }),
    ]);
    answers.cancelRest();
    if (progressOnTty && progressLines > 0) stderr.write('\n');
    // Polite end: sign-off lets the switch flush and close; a client that cannot (closed, reconnecting) just closes.
    await Promise.all(clients.map((client) => client.signoff().catch(() => client.close())));

    const summary: IssuerSimSummary = {
      institution: connection.institution,
      transport: connection.tls === undefined ? connection.transport : `${connection.transport}+tls`,
      connections: options.connections,
      seed: options.seed,
      received: stats.received,
      answered: stats.answered,
      rcCounts: { ...stats.rcCounts },
      silent: stats.silent,
      late: stats.late,
      twice: stats.twice,
      lost: stats.lost,
      drops: stats.drops,
      reconnects: stats.reconnects,
      advices: stats.advices,
      adviceRepeats: stats.adviceRepeats,
      advicesAcknowledged: stats.advicesAcknowledged,
      elapsedMs,
      receivedRatePerS: elapsedMs > 0 ? (stats.received * 1000) / elapsedMs : 0,
      answerDelayMs: stats.answerDelayMs(),
    };
    stdout.write(options.json ? `${JSON.stringify(summary)}\n` : formatIssuerSummary(summary));
    if (refused !== undefined) throw refused;
    return summary;
  } finally {
    if (durationTimer !== undefined) clearTimeout(durationTimer);
    if (progressTimer !== undefined) clearInterval(progressTimer);
    if (options.handleSigint) process.off('SIGINT', onInterrupt);
    options.signal?.removeEventListener('abort', stop);
    answers.cancelRest();
    await Promise.all(clients.map((client) => client.close()));
  }
}

/** Carries out one decision; the return value is what the SDK sends now (null: nothing, or later). */
function act(
  decision: IssuerDecision,
  client: SwitchClient,
  context: SwitchMessageContext,
  stats: IssuerSimStats,
  answers: ScheduledAnswers,
): HandlerAnswer | null {
  switch (decision.kind) {
    case 'drop':
      stats.drops++;
      client.dropConnection();
      return null;
    case 'silent':
      stats.silent++;
      return null;
    case 'answer':
      if (decision.late) stats.late++;
      if (decision.delayMs <= 0) {
        // At once, in the turn that read the request: answers to one frame share one frame.
        stats.recordAnswer(decision.answer.rc, 0);
        if (decision.twice && context.respond(decision.answer)) stats.twice++;
        return decision.answer;
      }
      answers.schedule(context, decision.answer, decision.delayMs, decision.twice);
      return null;
  }
}

/**
 * Answers waiting for their delay: one timer each (a simulator's rates allow
 * it, and each answer keeps its own due time). At the end of a run the ones
 * already scheduled are let out (drain), and whatever is still waiting after
 * that is counted lost.
 */
class ScheduledAnswers {
  private readonly timers = new Set<NodeJS.Timeout>();
  /** When the last answer scheduled so far is due (performance.now() ms). */
  private latestDueMs = 0;

  constructor(private readonly stats: IssuerSimStats) {}

  schedule(context: SwitchMessageContext, answer: HandlerAnswer, delayMs: number, twice: boolean): void {
    const receivedMs = performance.now();
    this.latestDueMs = Math.max(this.latestDueMs, receivedMs + delayMs);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!context.respond(answer)) {
        this.stats.lost++;
        return;
      }
      this.stats.recordAnswer(answer.rc, performance.now() - receivedMs);
      if (twice && context.respond(answer)) this.stats.twice++;
    }, delayMs);
    this.timers.add(timer);
  }

  /** Resolves once every answer scheduled before the call is due and sent (or lost). */
  drain(): Promise<void> {
    const waitMs = this.latestDueMs - performance.now();
    if (this.timers.size === 0 || waitMs <= 0) return new Promise((resolve) => setImmediate(resolve));
    // setTimeout fires no earlier than asked, and timers of equal or earlier due time fire first.
    return new Promise((resolve) => setTimeout(resolve, Math.ceil(waitMs) + 1));
  }

  /** Drops what is still waiting: counted lost. */
  cancelRest(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.stats.lost += this.timers.size;
    this.timers.clear();
  }
}
