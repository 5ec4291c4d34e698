import { describe, expect, it } from 'vitest';
import { createMetrics } from '../collector/src/telemetry/metrics.js';
import { buildHealthServer } from '../collector/src/telemetry/server.js';

describe('health and metrics server', () => {
  it('answers /healthz, /readyz by its checks, and /metrics in Prometheus format', async () => {
    const metrics = createMetrics();
    metrics.recordsDecoded.inc({ version: '10' }, 42);
    const checks = { inputs: true, sink: true };
    const app = await buildHealthServer({ metrics: metrics.registry, health: { readiness: () => ({ ...checks }) } });
    expect((await app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await app.inject('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', checks: { inputs: true, sink: true } });
    checks.sink = false;
    const notReady = await app.inject('/readyz');
    expect(notReady.statusCode).toBe(503);
    expect(notReady.json().checks.sink).toBe(false);
    const text = (await app.inject('/metrics')).body;
    expect(text).toContain('elkfc_records_decoded_total{version="10"} 42');
    expect(text).toContain('# TYPE elkfc_decode_errors_total counter');
    expect(app.hasDecorator('health')).toBe(true);
    await app.close();
  });

  it('carries the sink\'s details in /readyz\'s body (Elasticsearch unavailable while the spool accepts: still ready)', async () => {
    const details = { sink: 'elasticsearch', elasticsearch: 'unavailable', lastError: 'HTTP 503', spoolDocuments: 12 };
    const app = await buildHealthServer({ metrics: createMetrics().registry, health: { readiness: () => ({ inputs: true, sink: true }), details: () => details } });
    const ready = await app.inject('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', checks: { inputs: true, sink: true }, details });
    await app.close();
  });
});
