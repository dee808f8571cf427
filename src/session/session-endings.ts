import type { InstitutionConfig } from '../config/types.js';
import type { Role } from '../protocol/mti.js';

/** Why a reload ends a signed-on session (the log line says it). */
export type SessionEndReason =
  | 'institution no longer configured'
  | 'role no longer configured'
  | 'public key changed';

/** The reason a session signed on as (institution, role) ends, or undefined: it is kept. */
export type SessionEndings = (institution: string, role: Role) => SessionEndReason | undefined;

/**
 * Which signed-on sessions a config reload ends (docs/protocol.md section 4,
 * with switchyard's clarification): those whose (institution, role) the new
 * institutions no longer list, whether the id went or only that role did
 * (an entry is an id and a role: the same id may be both an acquirer and an
 * issuer), and those whose institution's public key changed. A key is
 * replaced because it is retired or suspected stolen; a session it proved
 * must not outlive it, and the host signs on again with the new key. Every
 * other session is kept.
 *
 * Judged between the institutions before and after: every open session
 * signed on under `before` (the last reload ended any that `before` did
 * not admit), so its key is `before`'s.
 */
export function sessionEndings(
  before: readonly InstitutionConfig[],
  after: readonly InstitutionConfig[],
): SessionEndings {
  const keyBefore = keysByIdentity(before);
  const keyAfter = keysByIdentity(after);
  const idsAfter = new Set(after.map((inst) => inst.id));
  return (institution, role) => {
    const identity = identityOf(institution, role);
    const key = keyAfter.get(identity);
    if (key === undefined)
      return idsAfter.has(institution) ? 'role no longer configured' : 'institution no longer configured';
    const was = keyBefore.get(identity);
    return was !== undefined && was !== key ? 'public key changed' : undefined;
  };
}

function keysByIdentity(institutions: readonly InstitutionConfig[]): Map<string, string> {
  return new Map(institutions.map((inst) => [identityOf(inst.id, inst.role), inst.publicKey]));
}

function identityOf(institution: string, role: Role): string {
  return `${role}\u0000${institution}`;
}
