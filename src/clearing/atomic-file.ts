import { randomBytes } from 'node:crypto';
import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

/** Bytes gathered before a write: few large writes rather than one per row. */
const CHUNK_BYTES = 256 * 1024;
/** UTF-8 takes at most 3 bytes per UTF-16 code unit. */
const UTF8_BYTES_PER_CHAR_MAX = 3;

/**
 * A file that appears whole or not at all: written under a temporary name in
 * the same folder (so the rename stays on one file system), synced, then
 * renamed over its final name. A reader never sees it half written, and a
 * crash leaves at most a hidden `.tmp` file beside the old one.
 *
 * `write` is synchronous: it encodes the text straight into a chunk of
 * bytes (no string kept: a cycle's millions of row strings then die young,
 * where keeping them until a write made the collector copy and promote them,
 * most of the time of a cycle), and `full` says a chunk is ready;
 * `flushIfFull` writes ready chunks out (the temporary file is opened at the
 * first write out).
 */
export class AtomicFile {
  private chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  private used = 0;
  private ready: Buffer[] = [];
  private handle: FileHandle | undefined;
  private readonly tempPath: string;

  constructor(readonly finalPath: string) {
    // Unique per run: two runs of one cycle (a stalled job and its retry) never share a temp file.
    this.tempPath = path.join(
      path.dirname(finalPath),
      `.${path.basename(finalPath)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`,
    );
  }

  write(text: string): void {
    const bytesMax = text.length * UTF8_BYTES_PER_CHAR_MAX;
    if (this.used + bytesMax > this.chunk.length) {
      this.ready.push(this.chunk.subarray(0, this.used));
      this.chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, bytesMax));
      this.used = 0;
    }
    this.used += this.chunk.write(text, this.used, 'utf8');
  }

  get full(): boolean {
    return this.ready.length > 0;
  }

  async flushIfFull(): Promise<void> {
    if (this.full) await this.writeOut(this.takeReady());
  }

  /** Writes, syncs, closes and renames over the final name. Sync the folder afterwards (syncDir). */
  async commit(): Promise<void> {
    const rest = this.takeReady();
    rest.push(this.chunk.subarray(0, this.used));
    this.used = 0;
    const handle = await this.writeOut(rest);
    await handle.sync();
    await handle.close();
    this.handle = undefined;
    await rename(this.tempPath, this.finalPath);
  }

  /** Closes and removes the temporary file (if any); the final name is left as it was. */
  async abort(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    this.ready = [];
    this.used = 0;
    if (handle === undefined) return;
    await handle.close().catch(() => undefined);
    await unlink(this.tempPath).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }

  private takeReady(): Buffer[] {
    const ready = this.ready;
    this.ready = [];
    return ready;
  }

  private async writeOut(chunks: readonly Buffer[]): Promise<FileHandle> {
    this.handle ??= await open(this.tempPath, 'wx');
    for (const bytes of chunks) {
      // A write may take fewer bytes than asked: go on until all are written.
      for (let at = 0; at < bytes.length; ) {
        const { bytesWritten } = await this.handle.write(bytes, at, bytes.length - at, null);
        at += bytesWritten;
      }
    }
    return this.handle;
  }
}

/** `text` at `finalPath`, atomically (AtomicFile). */
export async function writeFileAtomically(finalPath: string, text: string): Promise<void> {
  const file = new AtomicFile(finalPath);
  try {
    file.write(text);
    await file.commit();
  } catch (error) {
    await file.abort();
    throw error;
  }
}

/** Syncs a folder, so the renames into it survive a crash of the machine. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
