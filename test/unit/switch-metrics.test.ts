import { describe, expect, it } from 'vitest';
import { SwitchMetrics } from '../../src/observability/switch-metrics.js';

function metrics(): SwitchMetrics {
  return new SwitchMetrics({
    connectionsByRole: () => ({ acquirer: 2, issuer: 0, unauthenticated: 1 }),
    inflightRequests: () => 7,
    issuerForwardsInFlight: () => 3,
    issuers: () => ['iss-a'],
    adviceQueueDepths: () => new Map([['iss-a', 4]]),
  });
}

function linesOf(body: string, name: string): string[] {
  return body.split('\n').filter((line) => line.startsWith(name));
}

describe('SwitchMetrics exposition (docs/protocol.md section 8 names)', () => {
  it('counts responses by mti and rc', async () => {
    const m = metrics();
    m.responseWritten('0210', '00', 0.001);
    m.responseWritten('0210', '00', 0.002);
    m.responseWritten('0210', '51', 0.002);
    m.responseWritten('0110', '00', 0.0001);
    const { body } = await m.render();
    expect(body).toContain('# TYPE switchyard_messages_total counter');
    expect(linesOf(body, 'switchyard_messages_total{').sort()).toEqual([
      'switchyard_messages_total{mti="0110",rc="00"} 1',
      'switchyard_messages_total{mti="0210",rc="00"} 2',
      'switchyard_messages_total{mti="0210",rc="51"} 1',
    ]);
  });

  it('exports the request duration histogram with cumulative buckets, sum and count per mti', async () => {
    const m = metrics();
    m.responseWritten('0210', '00', 0.00004); // <= 50 us
    m.responseWritten('0210', '00', 0.001); // exactly on the 1 ms bound: counted in le="0.001"
    m.responseWritten('0210', '00', 0.003);
    m.responseWritten('0210', '00', 20); // beyond the last bound: +Inf only
    const { body } = await m.render();
    expect(body).toContain('# TYPE switchyard_request_duration_seconds histogram');
    const lines = linesOf(body, 'switchyard_request_duration_seconds');
    expect(lines).toContain('switchyard_request_duration_seconds_bucket{le="0.00005",mti="0210"} 1');
    expect(lines).toContain('switchyard_request_duration_seconds_bucket{le="0.0005",mti="0210"} 1');
    expect(lines).toContain('switchyard_request_duration_seconds_bucket{le="0.001",mti="0210"} 2');
    expect(lines).toContain('switchyard_request_duration_seconds_bucket{le="0.005",mti="0210"} 3');
    expect(lines).toContain('switchyard_request_duration_seconds_bucket{le="10",mti="0210"} 3');
    expect(lines).toContain('switchyard_request_duration_seconds_bucket{le="+Inf",mti="0210"} 4');
    expect(lines).toContain('switchyard_request_duration_seconds_count{mti="0210"} 4');
    const sum = lines.find((l) => l.startsWith('switchyard_request_duration_seconds_sum{mti="0210"}'));
    expect(Number(sum?.split(' ')[1])).toBeCloseTo(20.00404, 9);
  });

  it('keeps the gauges it does not record per message', async () => {
    const { body } = await metrics().render();
    expect(body).toContain('switchyard_connections{role="acquirer"} 2');
    expect(body).toContain('switchyard_inflight_requests 7');
  });

  it('adds up the record sweep passes', async () => {
    const m = metrics();
    m.recordSweepPass({ accounts: 500, deleted: 3, retries: 0 });
    m.recordSweepPass({ accounts: 120, deleted: 0, retries: 2 });
    const { body } = await m.render();
    expect(body).toContain('# TYPE switchyard_ledger_sweep_accounts_total counter');
    expect(linesOf(body, 'switchyard_ledger_sweep_accounts_total')).toEqual([
      'switchyard_ledger_sweep_accounts_total 620',
    ]);
    expect(linesOf(body, 'switchyard_ledger_sweep_deleted_records_total')).toEqual([
      'switchyard_ledger_sweep_deleted_records_total 3',
    ]);
    expect(linesOf(body, 'switchyard_ledger_sweep_retries_total')).toEqual([
      'switchyard_ledger_sweep_retries_total 2',
    ]);
  });

  it('adds up the hold expiry passes, and keeps the last pass’s lag', async () => {
    const m = metrics();
    m.holdExpiryPass({ asked: 300, released: 120, retries: 4, behindMs: 90_500 });
    m.holdExpiryPass({ asked: 50, released: 7, retries: 0, behindMs: 0 });
    const { body } = await m.render();
    expect(body).toContain('# TYPE switchyard_ledger_hold_expiry_asked_total counter');
    expect(linesOf(body, 'switchyard_ledger_hold_expiry_asked_total')).toEqual([
      'switchyard_ledger_hold_expiry_asked_total 350',
    ]);
    expect(linesOf(body, 'switchyard_ledger_hold_expiry_released_total')).toEqual([
      'switchyard_ledger_hold_expiry_released_total 127',
    ]);
    expect(linesOf(body, 'switchyard_ledger_hold_expiry_retries_total')).toEqual([
      'switchyard_ledger_hold_expiry_retries_total 4',
    ]);
    expect(body).toContain('# TYPE switchyard_ledger_hold_expiry_behind_seconds gauge');
    expect(linesOf(body, 'switchyard_ledger_hold_expiry_behind_seconds')).toEqual([
      'switchyard_ledger_hold_expiry_behind_seconds 0',
    ]);
    m.holdExpiryPass({ asked: 1, released: 0, retries: 1, behindMs: 2_250 });
    expect(linesOf((await m.render()).body, 'switchyard_ledger_hold_expiry_behind_seconds')).toEqual([
      'switchyard_ledger_hold_expiry_behind_seconds 2.25',
    ]);
  });

  it('exports per-worker ledger stats: gauges set, record reads added up', async () => {
    const m = metrics();
    const stats = { actorsActive: 12, mailboxDepth: 3, evictedKeys: 40, recordReads: 5 };
    m.workerStats(0, { ...stats, batchSize: [64, 128], commitSeconds: [0.002] });
    m.workerStats(0, { ...stats, evictedKeys: 38, recordReads: 2, batchSize: [], commitSeconds: [] });
    m.workerStats(1, { ...stats, evictedKeys: 0, recordReads: 0, batchSize: [], commitSeconds: [] });
    const { body } = await m.render();
    expect(linesOf(body, 'switchyard_actors_active{')).toEqual([
      'switchyard_actors_active{worker="0"} 12',
      'switchyard_actors_active{worker="1"} 12',
    ]);
    expect(linesOf(body, 'switchyard_ledger_evicted_keys{')).toEqual([
      'switchyard_ledger_evicted_keys{worker="0"} 38',
      'switchyard_ledger_evicted_keys{worker="1"} 0',
    ]);
    expect(body).toContain('# TYPE switchyard_ledger_record_reads_total counter');
    expect(linesOf(body, 'switchyard_ledger_record_reads_total{')).toEqual([
      'switchyard_ledger_record_reads_total{worker="0"} 7',
      'switchyard_ledger_record_reads_total{worker="1"} 0',
    ]);
    expect(linesOf(body, 'switchyard_persist_batch_size_count')).toEqual([
      'switchyard_persist_batch_size_count 2',
    ]);
  });

  it('counts forwards per issuer by outcome, every outcome exported from start, with the in-flight gauge', async () => {
    const m = metrics();
    let body = (await m.render()).body;
    for (const outcome of ['approved', 'declined', 'timeout', 'unavailable'])
      expect(linesOf(body, 'switchyard_issuer_requests_total')).toContain(
        `switchyard_issuer_requests_total{issuer="iss-a",outcome="${outcome}"} 0`,
      );
    expect(linesOf(body, 'switchyard_issuer_forwards_in_flight')).toContain(
      'switchyard_issuer_forwards_in_flight 3',
    );
    m.issuerRequest('iss-a', 'approved', 0.002);
    m.issuerRequest('iss-a', 'timeout');
    body = (await m.render()).body;
    expect(linesOf(body, 'switchyard_issuer_requests_total')).toContain(
      'switchyard_issuer_requests_total{issuer="iss-a",outcome="approved"} 1',
    );
    expect(linesOf(body, 'switchyard_issuer_requests_total')).toContain(
      'switchyard_issuer_requests_total{issuer="iss-a",outcome="timeout"} 1',
    );
    expect(linesOf(body, 'switchyard_issuer_response_seconds_count')).toContain(
      'switchyard_issuer_response_seconds_count{issuer="iss-a"} 1',
    );
  });
});
