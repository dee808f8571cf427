/**
 * Authorization codes: 6 upper-case base-36 characters. The first is the
 * worker id (workers never collide), then a 5-character sequence starting at
 * a random point (60M codes before it wraps), so codes do not repeat within
 * any realistic day of one worker.
 */
const SEQ_SPACE = 36 ** 5;

export function createAuthCodeGenerator(
  workerId: number,
  seed = Math.floor(Math.random() * SEQ_SPACE),
): () => string {
  const lead = (workerId % 36).toString(36).toUpperCase();
  let seq = seed % SEQ_SPACE;
  return () => {
    seq = (seq + 1) % SEQ_SPACE;
    return `${lead}${seq.toString(36).toUpperCase().padStart(5, '0')}`;
  };
}
