/**
 * The part of docs/BENCHMARKS.md that is analysis rather than measurement: what limits the goals a run
 * misses, from CPU profiles (`--cpu-prof`, bench/profile.ts, BENCH_CPU_PROF_DIR) and heap snapshots. Figures
 * here are from the profiling session named; the tables below each scenario are the current measurement.
 */
export const FINDINGS = `## What limits the missed goals (profiled)

Profiles taken on the machine of the sections below (2 shared cores; other work was running, see each
section's load average). Reproduce with \`node --import tsx --cpu-prof --cpu-prof-dir=/tmp/prof bench/profile.ts\`
(the client side of scenario 1) or \`BENCH_CPU_PROF_DIR=/tmp/prof npm run bench -- --only mcp\` (the MCP server).

**Fixed while benchmarking:**

1. *Every streamed call opened a new TCP connection.* The SSE reader left its \`for await\` loop on \`[DONE]\`, which
   destroys the response stream and with it the keep-alive socket (the end of the chunked body had not been read
   yet). The profile showed \`internalConnect\`, socket close and agent bookkeeping at about a third of the
   client's CPU. Now the call resolves at \`[DONE]\` and the body drains to its end in the background (a server
   that never ends it loses the socket after 1 s), so the socket returns to the pool. Back to back with
   \`bench/profile.ts ours 256 3\` (fake in its own process): before, 9,176 calls opened 9,176 connections at
   ~320 µs of client CPU per call; after, 256 connections for ~14,000 calls at ~210 µs per call, ~1.5× the
   throughput. Guarded by test/load/pool-limits.test.ts.
2. *A caller's cancel counted as a provider failure.* An abort reason that was not one of ours (the MCP SDK's
   reason, a plain Error, a DOMException) came out of the wire as \`network\`, which the breaker counts: five
   cancelled calls in a row opened the provider's breaker for everyone for BREAKER_RESET_SECS. Now such a reason
   becomes \`cancelled\`. Found by scenario 5; guarded by test/load/recovery.test.ts.

3. *Cheaper hot path (src/providers/gateway.ts, src/http/request.ts, src/observability/logger.ts).* A call that
   can neither fall back nor has a budget of its own now runs under the provider's deadline alone (one
   AbortController, timer and listener fewer); the request body is written as a string, so node:http sends
   headers and body in one write; the logger no longer runs pino's redaction paths (no key ever enters a
   record, and tests read the logs for them). \`bench/profile.ts ours 64 5\`, three runs each: ~143 → ~120 µs of
   client CPU per call, ~7,400 → ~8,600 calls/s.
4. *One store write per exchange (src/memory).* A chat exchange's user and assistant turns are now one atomic
   \`appendTurns\` (or \`create\` with both turns): one SQLite transaction instead of two per call, and no
   interleaving of two replicas' exchanges.
5. *Queued calls re-check the breaker (src/providers/provider.ts).* Calls admitted while the breaker was closed
   and then queued behind the bulkhead used to reach the provider after it opened; now a call checks again
   when it gets its slot (200 concurrent calls, bulkhead 10, threshold 5: at most 40 requests reach the
   failing provider, guarded by test/load/recovery.test.ts). The shutdown signal's listener limit is lifted,
   so \`MaxListenersExceededWarning\` no longer appears with many calls in flight.
6. *A stdio server loaded what only Redis and /metrics need (src/redis/link.ts, src/observability/metrics.ts).*
   @redis/client (~500 modules, with @opentelemetry/api) was imported by the Redis store and shared health even
   without REDIS_URL, and prom-client (~40) by the App; now the first Redis link imports the client and the HTTP
   server starts its metrics before it listens. Built CLI, 7 alternating spawns each (load average ~15): CPU until
   \`initialize\` was answered 1,264 → 957 ms (median); the startup section's comparison row is the same A/B at
   21 spawns. Guarded by test/e2e/startup-modules.test.ts (the module graph, not a time).
7. *Routing built a web Request per call (src/server/http/server.ts).* Deciding between the 2025 and 2026 serving
   paths went through the SDK's \`isLegacyRequest\`, which wants a web \`Request\`: a \`Headers\` and a
   \`Request\` per call, then the classifier. Now the classifier runs on node's headers and the parsed body.
   Same process, alternating, 5 rounds of 5,000: 58.7 → 21.2 µs of CPU per request. What is left is the SDK's
   classifier trying the result and error schemas with zod (both fail, and a failing zod parse builds its issues)
   before the request schema.
8. *Every server instance rebuilt every tool's schemas (src/workflow/engine.ts, src/tools/chat.ts).* A server is
   built per HTTP session and per stateless (2026-07-28) request, and building the twelve step schemas with zod
   (and, on tools/list, their JSON Schemas) was ~85 % of it. Now each tool's input schema is built once per
   process and shared (zod schemas are immutable). \`createServer\` with all 17 tools, 3 alternating runs of 100:
   7.9–9.4 → 1.0–1.1 ms of CPU. A stateless request paid this on every call.
9. *An IDE waited for the whole server before its answer to \`initialize\` (src/server/stdio-early.ts).* Loading
   zod, the MCP SDK and our ~100 modules took ~950 ms of CPU before stdio could answer; bare node takes ~40 ms.
   Now the stdio server reads stdin while it loads and answers a first line that is an initialize at once, from
   the identity the server is built from (src/server/identity.ts), which needs no package; once loaded, the
   server gets the same request under its own id and its answer is checked, not written. tools/list still
   waits for the load. Same run, 31 alternating spawns each, load average 4.6: initialize answered in 74 ms
   (bare node 53 ms, the previous build 725 ms: the startup section's comparison row, commit ea21c93), with
   60 ms of CPU against 840 ms; tools/list 735 against 727 ms (unchanged). At load ~13, with a first version of
   this change that loaded the server only after the first line: 200, 236 and 280 ms against bare node's 158,
   185 and 201 ms in the same runs. The answer tracks bare node plus 20–80 ms, so the 250 ms goal holds whenever
   bare node itself answers within ~170 ms; where bare node takes longer, the goal is missed along with it.
   Guarded by test/e2e/startup-modules.test.ts (what answers early loads no package),
   test/unit/stdio-early.test.ts (the early answer equals createServer's) and test/e2e/stdio-early.test.ts.

**Overhead per call (scenario 1).** Client CPU per call, measured separately at concurrency 64 (the table's
figures, at 256, are higher: more garbage per second, more GC): raw undici ~52 µs; the exai wire alone ~100 µs
(node:http's ClientRequest/Agent/IncomingMessage path: the transport, not our code, is most of the gap); the full
stack ~143 µs, of which ~16 µs is the one info log line per attempt (pino with redaction paths; LOG_LEVEL=warn
gave ~127 µs) and ~27 µs the resilience layers (two Deadlines per call, each an AbortController plus a timer and
a listener; the wire's linked controller; cockatiel's execute with its own derived signal; bulkhead and retry
closures). 0.8× raw would need ≤ ~75 µs per call, below what node:http alone costs here. Moving the wire to
undici is *not* the answer as things stand: scenario 3 counts the sockets raw undici 7 leaves open on the hung
provider after aborting 1,000 requests still waiting for headers (over as many connections to one origin), and
they stay open — exactly the reason pool.ts gives for node:http, and a breach of "no sockets left upstream".
What remains: the deadline when a fallback is possible (both keys set) is still one above the provider's, and
the wire's linked controller could fold into the provider's deadline; a leaner request path on node:http
(precomputed request options instead of a URL per call, one listener set per request).

**MCP end to end (scenario 2).** The server is CPU-bound on its one thread (~100 % of a core) at roughly 650–950 µs
of CPU per \`chat\` call depending on how busy the machine is, against ~150–170 µs per echo call (the load
generator and the fake are far from their limits): the SDK's per-request work (Streamable HTTP on hono's
Request/Response adapters, zod validation) is common to both; \`chat\` adds the SQLite store (~100–300 µs: a thread
create with both turns, or one append of both turns, in one transaction since fix 4; compare
the EXAI_STORE=memory row), the provider call (~150 µs plus its socket writes; write syscalls are ~15 % of the
profile) and the tool's own work. ≥ 2,000 calls/s on one thread needs < 500 µs per call; the other route is a
second worker process, which on 2 cores competes with the load generator and the fake.

Where a \`chat\` call's server CPU goes (profile of the server alone in steady state: 64 sessions, 15 s, load average
~15, after fixes 7 and 8; each sample charged to the nearest frame with an owner): the MCP SDK with hono's
adapters and zod 42 % (request and result validation, the Streamable HTTP transport, the SSE response and its
socket writes), the provider call 23 % (node:http request, SSE parsing, deadlines, breaker, bulkhead), the tool
and conversation logic 7 %, GC 6 %, the SQLite store 6 %, other node internals 6 %, node's HTTP server 5 %, our
HTTP edge (routing, sessions, guards) 4 %, logging 1 %, metrics 0.6 %. Socket write syscalls alone are ~20 %.
So the SDK's share of our call already costs ~1.4× a whole echo call (the result is larger: the ToolOutput as
text and as structuredContent, and the input schema is richer), and ≤ 2× the echo's CPU per call would need
everything else together under ~0.6 echo calls: even without logging, metrics, the store, the tool logic and
the edge (~19 %), the provider call alone keeps the ratio above 2×. The lever left is the provider call path
(fewer AbortControllers and timers per call, a leaner request on node:http; see scenario 1). On this machine
the scenario is very sensitive to other work: at load averages of 5–17 the servers got 30–60 % of a core and
the figures were 4–10× worse than on the quiet machine earlier the same day (394 calls/s, 0.18× the echo), so
the section below carries a comparison row: commit f77a0ef, the build before fixes 6–8, in the same alternation.

**Hang storm and burst (scenarios 3, 4).** Both are bounded by the client's CPU, not by the hung calls or the
bulkheads: 2,000 (or 10,000) requests are issued from one event loop in one tick, so the first answers can only
be read once all are sent. Raw undici in the same storm or burst shows the same shape (see the baselines); with
cold connections each call also pays a TCP connect. The hung calls' lateness is 1,000 deadlines expiring in the
same millisecond and handled one after another (abort, socket destroy, error, log line). Memory: a heap snapshot
of 2,000 calls in flight shows ~13 KB of JS heap per call in our stack — ~35 closures, ~19 contexts, 8 suspended
async frames and 2–3 AbortSignals (each an EventTarget with its own Map) — against ~1–3 KB for raw undici and for
our wire alone; fewer AbortControllers per call (see "what remains" above) is the main lever.

**Soak (scenario 7).** No leak shows: the JS heap is flat after the warm-up, every handle and timer is gone once
the traffic drains, no socket is left upstream. RSS still creeps up slowly (about 1 MB a minute at 40 calls/s)
while the heap does not, which points off-heap; the likeliest candidate is SQLite's page cache as the store grows
by ~40 threads a second (capped at 16 MB by SQLITE_DEFAULT_CACHE_SIZE). Not verified: a soak of an hour, or one
with EXAI_STORE=memory, would show whether it levels off.
`;
