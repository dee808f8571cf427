/**
 * What a reload retires and whether the store lets it (src/security/key-retirement.ts,
 * src/runtime/storage/key-usage.ts): the rules a SIGHUP is checked against before the switch
 * takes a key file that drops a key (docs/security.md "Retiring a key").
 */
import { describe, expect, it } from 'vitest';
import { dataKeyRetirable, type KeyUsage, stillInUse } from '../../src/runtime/storage/key-usage.js';
import type { KeyFile } from '../../src/security/key-file.js';
import { retiredKeys, retiredWhileCurrent, retiresAny } from '../../src/security/key-retirement.js';

const key = Buffer.alloc(32);

function file(o: {
  data: string[];
  currentData: string;
  token: string[];
  currentToken: string;
  previous?: string;
}): KeyFile {
  return {
    development: true,
    shardKey: Buffer.alloc(16),
    dataKeys: new Map(o.data.map((id) => [id, key])),
    currentDataKey: o.currentData,
    tokenKeys: new Map(o.token.map((id) => [id, key])),
    currentTokenKey: o.currentToken,
    previousTokenKey: o.previous,
  };
}

function usage(o: {
  /** Per data key id: account PANs and queued advice PANs it seals. */
  data?: Record<string, [number, number]>;
  token?: Record<string, [number, number, number]>;
}): KeyUsage {
  return {
    dataKeys: Object.fromEntries(
      Object.entries(o.data ?? {}).map(([id, [identities, advices]]) => [
        id,
        { inKeyFile: true, current: false, identities, advices },
      ]),
    ),
    tokenKeys: Object.fromEntries(
      Object.entries(o.token ?? {}).map(([id, [accounts, journalRecordsUnpassed, holdBucketMembers]]) => [
        id,
        {
          inKeyFile: true,
          current: false,
          previous: true,
          accounts,
          journalRecordsUnpassed,
          holdBucketMembers,
          aliases: 5,
        },
      ]),
    ),
    accounts: 0,
    unreadableAccounts: 0,
    advices: 0,
    unreadableAdvices: 0,
  };
}

describe('retiredKeys', () => {
  const rotating = file({
    data: ['d1', 'd2'],
    currentData: 'd2',
    token: ['t1', 't2'],
    currentToken: 't2',
    previous: 't1',
  });

  it('names the data keys dropped and the token keys no longer accepted for lookups', () => {
    const next = file({ data: ['d2'], currentData: 'd2', token: ['t2'], currentToken: 't2' });
    expect(retiredKeys(rotating, next)).toEqual({ dataKeyIds: ['d1'], tokenKeyIds: ['t1'] });
    // Still in the file but no longer previous: no longer found by PAN, so retired too.
    const unnamed = file({ data: ['d1', 'd2'], currentData: 'd2', token: ['t1', 't2'], currentToken: 't2' });
    expect(retiredKeys(rotating, unnamed)).toEqual({ dataKeyIds: [], tokenKeyIds: ['t1'] });
    expect(retiresAny(retiredKeys(rotating, rotating))).toBe(false);
  });

  it('refuses, whatever the store holds, to retire a key that is current until the reload', () => {
    const jumped = file({ data: ['d9'], currentData: 'd9', token: ['t9'], currentToken: 't9' });
    expect(retiredWhileCurrent(rotating, retiredKeys(rotating, jumped))).toEqual([
      'data key d2 is current: add another first (keys add-data-key)',
      'token key t2 is current: add another first (keys add-token-key)',
    ]);
  });
});

describe('stillInUse', () => {
  const retired = { dataKeyIds: ['d1'], tokenKeyIds: ['t1'] };

  it('lets a key go only when nothing stored needs it (aliases do not count)', () => {
    const unused = usage({ data: { d1: [0, 0] }, token: { t1: [0, 0, 0] } });
    expect(stillInUse(unused, retired)).toEqual([]);
    expect(dataKeyRetirable(unused, 'd1')).toBe(true);
  });

  it('keeps a data key that seals a queued advice, even when no account needs it', () => {
    const queued = usage({ data: { d1: [0, 2] }, token: { t1: [0, 0, 0] } });
    expect(dataKeyRetirable(queued, 'd1')).toBe(false);
    expect(stillInUse(queued, retired)).toEqual([
      'data key d1 still seals 0 account PANs and 2 queued advice PANs (the re-seal job has not finished)',
    ]);
  });

  it('says what keeps each key', () => {
    expect(stillInUse(usage({ data: { d1: [3, 0] }, token: { t1: [0, 0, 0] } }), retired)).toEqual([
      'data key d1 still seals 3 account PANs and 0 queued advice PANs (the re-seal job has not finished)',
    ]);
    for (const counts of [
      [2, 0, 0],
      [0, 4, 0],
      [0, 0, 1],
    ] as [number, number, number][]) {
      expect(stillInUse(usage({ data: { d1: [0, 0] }, token: { t1: counts } }), retired)).toEqual([
        `token key t1 still names ${counts[0]} accounts, ${counts[1]} journal records not passed by hold expiry and ${counts[2]} hold bucket members`,
      ]);
    }
  });
});
