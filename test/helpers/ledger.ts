/**
 * Helpers for the on-us ledger tests (docs/protocol.md sections 3, 5, 6), written against the contract
 * only: accounts through the admin API, transactions through a RawClient, and a book of every rrn
 * the switch handed out so a file can prove they never repeat across different transactions.
 */
import { expect } from 'vitest';
import { admin, type HttpAnswer } from './harness.js';
import { luhnDigit, makePan, nextId, responseMti } from './messages.js';
import { EVENTUALLY_MS } from './processes.js';
import { type RawClient, show } from './raw-client.js';
import type { SwitchProcess } from './switch-process.js';
import type { Msg } from './wire.js';

export type Status = 'active' | 'blocked';

export interface Limits {
  perTxnMax?: number;
  dailyMax?: number;
  dailyCountMax?: number;
}

/** The account as GET /accounts/{pan} answers it. */
export interface AccountView {
  pan: string;
  currency: string;
  balance: number;
  held: number;
  available: number;
  status: Status;
  limits: Limits;
}

/** docs/protocol.md section 6: first 6 and last 4 digits, `*` between (one per hidden digit). */
export function masked(pan: string): string {
  // docs/protocol.md section 6: the first min(6, length - 10) digits and the last 4, at least 6 hidden.
  const first = Math.min(6, pan.length - 10);
  return `${pan.slice(0, first)}${'*'.repeat(pan.length - first - 4)}${pan.slice(-4)}`;
}

/** The account GET should answer: masked PAN, EUR, active, no limits, no holds unless `fields` says otherwise. */
export function expectedView(pan: string, fields: Partial<AccountView> & { balance: number }): AccountView {
  const held = fields.held ?? 0;
  return {
    pan: masked(pan),
    currency: 'EUR',
    held,
    available: fields.balance - held,
    status: 'active',
    limits: {},
    ...fields,
  };
}

/** The PAN `switchyard sim` / POST /accounts/bulk use for `index`: prefix, zero-padded index, Luhn digit. */
export function simPan(prefix: string, index: number, digits = 16): string {
  const body = `${prefix}${String(index).padStart(digits - 1 - prefix.length, '0')}`;
  return body + luhnDigit(body);
}

/** Admin calls on accounts with one token; every PAN it touches lands in `pans`. */
export class Accounts {
  readonly pans = new Set<string>();

  constructor(
    private readonly sw: () => SwitchProcess,
    private readonly token: string,
  ) {}

  put(pan: string, body: unknown): Promise<HttpAnswer> {
    this.pans.add(pan);
    return admin(this.sw(), 'PUT', `/accounts/${pan}`, { token: this.token, body });
  }

  getRaw(pan: string): Promise<HttpAnswer> {
    this.pans.add(pan);
    return admin(this.sw(), 'GET', `/accounts/${pan}`, { token: this.token });
  }

  adjust(pan: string, body: unknown): Promise<HttpAnswer> {
    this.pans.add(pan);
    return admin(this.sw(), 'POST', `/accounts/${pan}/adjust`, { token: this.token, body });
  }

  /** A fresh PAN (prefix 4: the local route) with a new account; asserts the 201. */
  async create(
    o: { balance?: number; currency?: string; limits?: Limits; status?: Status; pan?: string } = {},
  ): Promise<string> {
    const pan = o.pan ?? makePan('4');
    const body: Record<string, unknown> = { currency: o.currency ?? 'EUR', balance: o.balance ?? 10_000 };
    if (o.limits !== undefined) body['limits'] = o.limits;
    if (o.status !== undefined) body['status'] = o.status;
    const answer = await this.put(pan, body);
    expect(answer.status, answer.text).toBe(201);
    return pan;
  }

  async get(pan: string): Promise<AccountView> {
    const answer = await this.getRaw(pan);
    expect(answer.status, answer.text).toBe(200);
    return answer.json as AccountView;
  }

  /** GET and compare balance / held / available (available derived when omitted). */
  async expectState(pan: string, e: { balance: number; held: number; available?: number }): Promise<void> {
    const view = await this.get(pan);
    expect(
      { balance: view.balance, held: view.held, available: view.available },
      `account ${masked(pan)}`,
    ).toEqual({
      balance: e.balance,
      held: e.held,
      available: e.available ?? e.balance - e.held,
    });
  }

  async setStatus(pan: string, status: Status, currency = 'EUR'): Promise<void> {
    const answer = await this.put(pan, { currency, balance: 0, status });
    expect(answer.status, answer.text).toBe(200);
    expect((answer.json as AccountView).status).toBe(status);
  }
}

/** The transaction key fields of a request (docs/protocol.md section 3), for `orig`. */
export function origOf(m: Msg): { stan: number; time: number } {
  return { stan: m['stan'] as number, time: m['time'] as number };
}

let stanCounter = 0;
let lastTimeMs = 0;
/** A (stan, time) pair never handed out before in this process. */
export function freshKey(): { stan: number; time: number } {
  stanCounter = (stanCounter % 999_999) + 1;
  lastTimeMs = Math.max(Date.now(), lastTimeMs + 1);
  return { stan: stanCounter, time: lastTimeMs };
}

export interface ReqOptions {
  readonly pan: string;
  readonly amount: number;
  readonly currency?: string;
  readonly proc?: string;
  readonly partial?: boolean;
  /** The original (0220 / 0400 family): its request, or its {stan, time}. */
  readonly orig?: Msg | { stan: number; time: number };
  /** Reuse a key (same stan/time) instead of a fresh one. */
  readonly key?: { stan: number; time: number };
  readonly extra?: Msg;
}

/** A well-formed transaction request with a fresh id and (unless given) a fresh key. */
export function req(mti: string, o: ReqOptions): Msg {
  const key = o.key ?? freshKey();
  const m: Msg = {
    mti,
    id: nextId(),
    stan: key.stan,
    time: key.time,
    pan: o.pan,
    amount: o.amount,
    currency: o.currency ?? 'EUR',
  };
  if (o.proc !== undefined) m['proc'] = o.proc;
  if (o.partial !== undefined) m['partial'] = o.partial;
  if (o.orig !== undefined) m['orig'] = { stan: o.orig['stan'], time: o.orig['time'] };
  return { ...m, ...(o.extra ?? {}) };
}

/** The same request again (same key and content) under a new id, optionally changed. */
export function again(m: Msg, changes: Msg = {}): Msg {
  return { ...m, id: nextId(), ...changes };
}

/**
 * Every rrn and authCode seen, with the transaction key (institution, pan, stan, time) it was
 * given for. Either may come back only as the replay of the same key; anything else is a repeat
 * across different transactions.
 */
export class RrnBook {
  private readonly byRrn = new Map<string, string>();
  /** authCodes too: switch-wide unique as well (until 2.18 billion approvals later), restarts included. */
  private readonly byAuthCode = new Map<string, string>();
  readonly clashes: string[] = [];
  count = 0;

  note(request: Msg, response: Msg, institution = 'acq'): void {
    const rrn = response['rrn'];
    if (typeof rrn !== 'string') return;
    this.count++;
    const key = `${institution}|${String(request['pan'])}|${String(request['stan'])}|${String(request['time'])}`;
    const seen = this.byRrn.get(rrn);
    if (seen === undefined) this.byRrn.set(rrn, key);
    else if (seen !== key) this.clashes.push(`${rrn}: ${masked(String(request['pan']))} and an earlier key`);
    const authCode = response['authCode'];
    if (typeof authCode !== 'string') return;
    const sameCode = this.byAuthCode.get(authCode);
    if (sameCode === undefined) this.byAuthCode.set(authCode, key);
    else if (sameCode !== key)
      this.clashes.push(`authCode ${authCode}: ${masked(String(request['pan']))} and an earlier key`);
  }

  has(rrn: string): boolean {
    return this.byRrn.has(rrn);
  }

  get size(): number {
    return this.byRrn.size;
  }
}

/** Sends requests on one client and notes each response's rrn. */
export class Teller {
  constructor(
    readonly client: RawClient,
    readonly book: RrnBook,
    readonly institution = 'acq',
  ) {}

  async ask(m: Msg, timeoutMs = EVENTUALLY_MS): Promise<Msg> {
    this.client.send(m);
    return this.answer(m, timeoutMs);
  }

  /** The response to `m` (already sent, e.g. in a batch). */
  async answer(m: Msg, timeoutMs = EVENTUALLY_MS): Promise<Msg> {
    const response = await this.client.nextMessage(
      (r) => r['id'] === m['id'] && r['mti'] !== '0800',
      timeoutMs,
    );
    this.book.note(m, response, this.institution);
    return response;
  }

  /** Sends `m` and checks the response with expectAnswer. */
  async expect(m: Msg, e: Expected): Promise<Msg> {
    const response = await this.ask(m);
    expectAnswer(response, m, e);
    return response;
  }
}

export interface Expected {
  readonly rc: string;
  /** Approvals (00/10): the approved amount. */
  readonly amount?: number;
  /** Approvals (00/10): available after. */
  readonly balance?: number;
}

const DOCUMENTED_FIELDS = new Set([
  'mti',
  'id',
  'stan',
  'rc',
  'rrn',
  'authCode',
  'amount',
  'balance',
  'error',
]);

function txnClass(mti: string): string {
  return mti.endsWith('1') ? `${mti.slice(0, 3)}0` : mti;
}

/**
 * docs/protocol.md section 3 response fields: mti (the original class's response), id, stan, rc; rrn of
 * 12 characters; authCode of 6 characters on approvals of 0100/0200 only; on approvals amount and
 * balance (available after); error text on 12; nothing outside the documented fields.
 */
export function expectAnswer(response: Msg, request: Msg, e: Expected): void {
  const where = `request ${show({ ...request, pan: masked(String(request['pan'])) })} -> ${show({ ...response })}`;
  expect(response['mti'], where).toBe(responseMti(request['mti'] as string));
  expect(response['id'], where).toEqual(request['id']);
  expect(response['stan'], where).toBe(request['stan']);
  expect(response['rc'], where).toBe(e.rc);
  expect(typeof response['rrn'], where).toBe('string');
  expect(response['rrn'] as string, where).toMatch(/^.{12}$/);
  const approval = e.rc === '00' || e.rc === '10';
  const klass = txnClass(request['mti'] as string);
  if (approval && (klass === '0100' || klass === '0200')) {
    expect(typeof response['authCode'], where).toBe('string');
    expect(response['authCode'] as string, where).toMatch(/^.{6}$/);
  } else {
    expect(response['authCode'], where).toBeUndefined();
  }
  if (approval) {
    if (e.amount === undefined || e.balance === undefined)
      throw new Error('approvals need amount and balance');
    expect(response['amount'], where).toBe(e.amount);
    expect(response['balance'], where).toBe(e.balance);
  }
  if (e.rc === '12') {
    expect(typeof response['error'], where).toBe('string');
    expect((response['error'] as string).length, where).toBeGreaterThan(0);
  }
  const extra = Object.keys(response).filter((k) => !DOCUMENTED_FIELDS.has(k));
  expect(extra, where).toEqual([]);
}

/** Two responses equal field for field, except `id`. */
export function expectSameExceptId(replay: Msg, original: Msg): void {
  const { id: _a, ...a } = replay;
  const { id: _b, ...b } = original;
  expect(a).toEqual(b);
}

/**
 * An integer field as decoded from MessagePack: a safe-integer number or (int64 beyond 2^53) a
 * bigint. A float, or a number past 2^53 (which can only have come as a float64), fails.
 */
export function exactInt(value: unknown, what: string): bigint {
  if (typeof value === 'bigint') return value;
  expect(Number.isSafeInteger(value), `${what} = ${String(value)} is not an exact integer`).toBe(true);
  return BigInt(value as number);
}

/** An integer field of a JSON text, read digit for digit (JSON.parse would round past 2^53). */
export function exactJsonInt(text: string, field: string): bigint {
  const match = new RegExp(`"${field}"\\s*:\\s*(-?[0-9]+)([.eE]?)`).exec(text);
  expect(match, `no integer "${field}" in ${text}`).not.toBeNull();
  expect(match![2], `"${field}" is not written as an integer in ${text}`).toBe('');
  return BigInt(match![1]!);
}

/** Every run of 12+ digits in `text`: the only places a full PAN could hide. */
export function digitRuns(text: string): string[] {
  return text.match(/[0-9]{12,}/g) ?? [];
}

/** The PANs of `pans` that appear whole in `text`. */
export function leakedPans(text: string, pans: Iterable<string>): string[] {
  const runs = digitRuns(text);
  const out: string[] = [];
  for (const pan of pans) if (runs.some((run) => run.includes(pan))) out.push(masked(pan));
  return out;
}
