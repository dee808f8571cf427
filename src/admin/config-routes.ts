import type { ConfigReloadOutcome } from '../config/reload.js';
import type { AdminServer } from './admin-server.js';
import { httpStatusOf } from './error-status.js';
import { sendJson } from './http-json.js';

/** The reload the switch runs (serialized with every other reload: this waits for one in progress). */
export type ReloadConfig = () => Promise<ConfigReloadOutcome>;

/**
 * docs/protocol.md sections 4 and 6, `POST /config/reload`: re-reads the
 * config file the switch was started with; 200 `{routes, institutions}`
 * (the counts now in force, and what waits for a restart), or 400
 * `invalid_config` with every problem, the running config kept. The body,
 * if any, is not read: the file is the config of record.
 */
export function registerConfigRoutes(admin: AdminServer, reload: ReloadConfig): void {
  admin.route('POST', '/config/reload', async (_req, res) => {
    const outcome = await reload();
    if (outcome.ok) {
      sendJson(res, 200, {
        routes: outcome.routes,
        institutions: outcome.institutions,
        needsRestart: outcome.needsRestart,
        sessionsClosed: outcome.sessionsClosed,
      });
      return;
    }
    const { file, problems } = outcome;
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    // The problems twice: in the message for a person, as a list for a program.
    sendJson(res, httpStatusOf('invalid_config'), {
      error: {
        code: 'invalid_config',
        message: `invalid configuration in ${file} (${count}): ${problems.join('; ')}; the running config is kept`,
        problems,
      },
    });
  });
}
