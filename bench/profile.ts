/**
 * Profiling aid, not a scenario: drives one client against the fake (in its own process) for a few seconds
 * so `--cpu-prof` sees only the client. `node --import tsx --cpu-prof --cpu-prof-dir=/tmp/prof
 * bench/profile.ts ours [concurrency] [seconds]` (only the gateway, "ours", so far)
 */
import { startFakeProcess } from './lib/fake-process.js';
import { benchGateway, GLM_MODEL, user } from './lib/gateway.js';
import { closedLoop } from './lib/load.js';
import { summarize } from './lib/stats.js';

const [which = 'ours', concurrencyArg = '256', secondsArg = '5'] = process.argv.slice(2);
const fakes = await startFakeProcess();
const fake = await fakes.start();
const ours = benchGateway({
  GLM_API_URL: `${fake.url}/v1`,
  GLM_MAX_CONCURRENCY: '256',
  PROVIDER_MAX_CONNECTIONS: '256',
});
const call = () => ours.gateway.chat({ model: GLM_MODEL, messages: user('hello') });
if (which !== 'ours') throw new Error('only "ours" for now');
const cpu = process.cpuUsage();
const load = await closedLoop(call, {
  concurrency: Number(concurrencyArg),
  durationMs: Number(secondsArg) * 1000,
  maxCalls: 1_000_000,
});
const used = process.cpuUsage(cpu);
const s = summarize(load.latencies);
console.log(
  `${which}: ${load.calls} calls, ${Math.round((load.calls / load.wallMs) * 1000)}/s, p50 ${s.p50.toFixed(2)} ms, ` +
    `${Math.round((used.user + used.system) / load.calls)} µs CPU/call, ` +
    `${(await fake.stats()).connectionsTotal} connections opened, errors ${load.errors}`,
);
ours.close();
await fakes.close();
