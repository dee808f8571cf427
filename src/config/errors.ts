/**
 * The configuration could not be used: unreadable file, invalid JSON, or one or
 * more validation problems. An operating error with a stable code (DESIGN.md:
 * typed errors for operating failures); `problems` lists every problem found,
 * each prefixed with its JSON path, so an operator fixes the file in one pass.
 */
export class ConfigError extends Error {
  readonly code = 'SWITCHYARD_CONFIG_INVALID';
  readonly problems: string[];

  constructor(problems: readonly string[], source?: string) {
    const where = source === undefined ? '' : ` in ${source}`;
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(`invalid configuration${where} (${count}):\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = [...problems];
  }
}
