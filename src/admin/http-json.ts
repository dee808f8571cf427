import type { IncomingMessage, ServerResponse } from 'node:http';
import { type HttpErrorCode, httpStatusOf } from './error-status.js';

/** Admin request bodies above this are refused with 413. */
export const ADMIN_BODY_BYTES_MAX = 1024 * 1024;

/** An admin API error: a registered code, its status read off the code (error-status.ts). */
export class HttpError extends Error {
  readonly status: number;

  constructor(
    readonly code: HttpErrorCode,
    message: string,
  ) {
    super(message);
    this.status = httpStatusOf(code);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** docs/protocol.md section 6: errors are `{error: {code, message}}` with the code's status. */
export function sendError(res: ServerResponse, code: HttpErrorCode, message: string): void {
  sendJson(res, httpStatusOf(code), { error: { code, message } });
}

export function readJsonBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > ADMIN_BODY_BYTES_MAX) {
        reject(new HttpError('body_too_large', `body exceeds ${ADMIN_BODY_BYTES_MAX} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (bytes === 0) {
        resolve(undefined);
        return;
      }
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(new HttpError('invalid_json', 'body is not valid JSON'));
      }
    });
    req.on('error', reject);
  });
}
