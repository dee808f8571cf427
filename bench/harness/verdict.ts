/** A measured figure against a target: `n/a` when the run did not measure what the target is set for. */
export type Verdict = 'pass' | 'fail' | 'n/a';
