import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { type ClearingRow, parseClearingCsv } from './clearing-row.js';
import { cycleDir, institutionOfFileName } from './cycle-paths.js';

/**
 * The rows of a cycle's files on disk, by institution (every
 * `<institution>.csv` of `<outDir>/<cycle>/`); an empty map when the folder
 * does not exist. Temporary files (`.<name>.tmp`) are not clearing files.
 */
export async function readCycleFiles(outDir: string, cycle: number): Promise<Map<string, ClearingRow[]>> {
  const dir = cycleDir(outDir, cycle);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw error;
  }
  const files = new Map<string, ClearingRow[]>();
  for (const name of names.sort()) {
    const institution = institutionOfFileName(name);
    if (institution === undefined) continue;
    files.set(institution, parseClearingCsv(await readFile(path.join(dir, name), 'utf8'), name));
  }
  return files;
}

/** An institution's own clearing file (same header), to reconcile against. */
export async function readTheirFile(
  file: string,
  institution: string,
): Promise<{ readonly institution: string; readonly rows: ClearingRow[] }> {
  return { institution, rows: parseClearingCsv(await readFile(file, 'utf8'), path.basename(file)) };
}
