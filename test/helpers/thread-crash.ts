import WebSocket from 'ws';
import { EVENTUALLY_MS, waitFor } from './processes.js';
import type { SwitchProcess } from './switch-process.js';

/**
 * Crashes a worker thread of a running switch process from outside, as a bug
 * in it would: an uncaught exception thrown on the thread itself, so the
 * switch sees the worker's `error` and `exit` events exactly as in
 * production, with no fault-injection hook in the switch. It goes through
 * the Node inspector: start the switch with `INSPECT_ENV` (the inspector on
 * a free loopback port, announced on stderr), and this attaches to its
 * worker threads (NodeWorker domain), finds the one whose script URL contains
 * `scriptPart`, and evaluates a throw on it.
 */

/** Environment for startSwitch: the inspector on loopback, port chosen by the OS. */
export const INSPECT_ENV: NodeJS.ProcessEnv = { NODE_OPTIONS: '--inspect=127.0.0.1:0' };

interface CdpMessage {
  readonly id?: number;
  readonly method?: string;
  readonly params?: {
    readonly sessionId?: string;
    readonly workerInfo?: { readonly url?: string };
  };
}

export async function crashWorkerThread(
  sw: SwitchProcess,
  scriptPart: string,
  message: string,
): Promise<void> {
  let url: string | undefined;
  const found = await waitFor(() => {
    url = /ws:\/\/127\.0\.0\.1:\d+\/[0-9a-f-]+/.exec(sw.stderr.join('\n'))?.[0];
    return url !== undefined;
  }, EVENTUALLY_MS);
  if (!found || url === undefined)
    throw new Error('the switch announced no inspector: start it with INSPECT_ENV');
  const ws = new WebSocket(url);
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    // A late error (the switch going away) must not become an unhandled one in the test process.
    ws.on('error', () => {});
    const sessionId = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no worker thread running ${scriptPart}`)),
        EVENTUALLY_MS,
      );
      ws.on('message', (raw: Buffer) => {
        const msg = JSON.parse(raw.toString('utf8')) as CdpMessage;
        if (msg.method !== 'NodeWorker.attachedToWorker') return;
        if (!(msg.params?.workerInfo?.url ?? '').includes(scriptPart)) return;
        clearTimeout(timer);
        resolve(msg.params!.sessionId!);
      });
      ws.send(
        JSON.stringify({ id: 1, method: 'NodeWorker.enable', params: { waitForDebuggerOnStart: false } }),
      );
    });
    // On the thread's next turn, outside the evaluation: an uncaught exception, as a bug throws it.
    const expression = `setImmediate(() => { throw new Error(${JSON.stringify(message)}); }); 0`;
    const evaluated = new Promise<void>((resolve) => {
      ws.on('message', (raw: Buffer) => {
        if ((JSON.parse(raw.toString('utf8')) as CdpMessage).id === 2) resolve();
      });
    });
    ws.send(
      JSON.stringify({
        id: 2,
        method: 'NodeWorker.sendMessageToWorker',
        params: {
          sessionId,
          message: JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression } }),
        },
      }),
    );
    await evaluated;
  } finally {
    ws.close();
  }
}
