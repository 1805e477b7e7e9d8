/**
 * What operators read off the HTTP server: Prometheus metrics and readiness. The live status page is tested in
 * a real browser by test/browser (npm run test:browser).
 */
import { describe, expect, it } from 'vitest';
import { observedServer } from './observed-server.js';

const obs = observedServer();

describe('metrics and readiness', () => {
  it('GET /metrics exposes provider call durations, retries, breaker state and tool call durations', async () => {
    await obs.chat('glm-4.6');
    await obs.chat('kimi-k2');
    const text = await (await fetch(`${obs.origin}/metrics`)).text();
    expect(text).toMatch(
      /exai_provider_call_duration_seconds_count\{provider="glm",model="glm-4\.6",outcome="ok"\} 1/,
    );
    expect(text).toMatch(
      /exai_provider_call_duration_seconds_count\{provider="kimi",model="kimi-k2.6",outcome="upstream_error"\} 1/,
    );
    expect(text).toMatch(/exai_tool_call_duration_seconds_count\{tool="chat",status="ok"\} 1/);
    expect(text).toMatch(/exai_tool_call_duration_seconds_count\{tool="chat",status="upstream_error"\} 1/);
    expect(text).toMatch(/exai_provider_breaker_state\{provider="glm"\} 0/);
    expect(text).toMatch(/exai_provider_in_flight\{provider="glm"\} 0/);
    expect(text).toMatch(/exai_active_sessions 1/);
    // What the answered call cost, from the catalogue's prices (the failed one cost nothing here).
    const spent = text.match(/exai_provider_cost_usd_total\{provider="glm",model="glm-4\.6"\} ([0-9.e-]+)/);
    expect(Number(spent?.[1])).toBeGreaterThan(0);
    expect(text).not.toMatch(/exai_provider_cost_usd_total\{provider="kimi"/);
    expect(text).not.toContain('test-key');
  });

  it('GET /readyz is ready while a configured provider breaker is closed', async () => {
    const res = await fetch(`${obs.origin}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ready: true, store: 'open', providers: { glm: 'closed' } });
  });
});
