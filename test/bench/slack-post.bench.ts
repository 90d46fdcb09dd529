/**
 * The poller's Slack post through @slack/web-api's WebClient, by the transport it uses: its default
 * (`globalThis.fetch`, Node's own copy of undici, loaded on first use) against the same request over the undici the
 * poller's bundle already holds for Atlas (`fetchOverUndici` in fixtures/slack-post.ts, passed as WebClient's `fetch`
 * option). Both load @slack/web-api on the first post, as the poller does; only the HTTP stack differs.
 *
 *   npx tsx test/bench/slack-post.bench.ts [--quick]      (or all sections: npm run bench)
 *
 * - First post: a fresh process per sample (a cold Lambda whose poll posts a message), transports interleaved; the
 *   time from the end of loading the bundle to the post's answer, and the process's CPU time to that point.
 * - Warm: one process per transport (a warm container each), posts interleaved across the two after discarded ones.
 * Against the Slack stand-in on 127.0.0.1. Nothing is asserted.
 */
import path from 'node:path';
import { startSlackStandIn } from '../../infra/local/slack';
import { benchBundles, bundleBytes, removeBenchBundles } from './lib/bundles';
import { childEnv, runCold, type SampleWork, startWarm, type WarmSample } from './lib/child';
import {
  type BenchOptions,
  type BenchSection,
  formatKb,
  formatMs,
  formatMsSpread,
  formatRatioSpread,
  runStandalone,
} from './lib/report';
import { interleave, median, ratioSpread, spreadOf } from './lib/stats';

const TRANSPORTS = ['global-fetch', 'undici'] as const;
type Transport = (typeof TRANSPORTS)[number];
const LABELS: Record<Transport, string> = {
  'global-fetch': "WebClient's default: globalThis.fetch (Node's own undici)",
  undici: "WebClient { fetch: fetchOverUndici } (the bundle's undici)",
};
const CHANNEL = 'C0BENCH';
const BATCHES = 5;

export async function run(options: BenchOptions): Promise<BenchSection> {
  const coldRounds = options.quick ? 6 : 30;
  const warmPosts = options.quick ? 40 : 200;
  const warmup = options.quick ? 10 : 30;
  const bundles = await benchBundles();
  const slack = await startSlackStandIn();
  try {
    const bundle = bundles.slackPost.file;
    const env = childEnv({ LOG_LEVEL: 'warn' });
    const work = (transport: Transport): SampleWork => ({
      kind: 'call',
      exportName: 'post',
      args: [transport, slack.apiUrl, slack.token, CHANNEL],
      expectText: `ok ${transport}`,
    });

    console.log(`slack post: first post, ${coldRounds} rounds x ${TRANSPORTS.length}, a process per sample`);
    const cpu: Record<Transport, number[]> = { 'global-fetch': [], undici: [] };
    const first = await interleave(
      TRANSPORTS,
      { rounds: coldRounds, warmup: 1 },
      async (transport, round) => {
        const result = await runCold(
          { bundle, ...work(transport) },
          path.join(bundles.dir, `slack-post-${transport}.json`),
          env,
        );
        if (round >= 0) cpu[transport].push(result.cpuMs);
        return result.doneMs - result.loadedMs;
      },
    );

    console.log(`slack post: warm, ${warmPosts} posts x ${TRANSPORTS.length} containers`);
    const warm: Record<Transport, WarmSample[]> = { 'global-fetch': [], undici: [] };
    const containers = await Promise.all(
      TRANSPORTS.map((transport) =>
        startWarm(
          { bundle, work: work(transport) },
          path.join(bundles.dir, `slack-warm-${transport}.json`),
          env,
        ),
      ),
    );
    try {
      await interleave(TRANSPORTS, { rounds: warmPosts, warmup }, async (transport, i) => {
        const taken = await containers[TRANSPORTS.indexOf(transport)]?.sample(i + warmup);
        if (taken === undefined) throw new Error(`no container for ${transport}`);
        if (i >= 0) warm[transport].push(taken);
        return taken.ms;
      });
    } finally {
      await Promise.all(containers.map((c) => c.close()));
    }
    const posted = slack.messagesIn(CHANNEL).length;
    return section(first, cpu, warm, {
      coldRounds,
      warmPosts,
      posted,
      bytes: bundleBytes(bundles.slackPost).atStart,
    });
  } finally {
    await slack.close();
  }
}

function section(
  first: Record<Transport, number[]>,
  cpu: Record<Transport, number[]>,
  warm: Record<Transport, WarmSample[]>,
  info: { coldRounds: number; warmPosts: number; posted: number; bytes: number },
): BenchSection {
  const rows = TRANSPORTS.map((t) => [
    LABELS[t],
    formatMsSpread(spreadOf(first[t], BATCHES)),
    t === 'global-fetch' ? '-' : formatRatioSpread(ratioSpread(first[t], first['global-fetch'], BATCHES)),
    formatMs(median(cpu[t])),
    t === 'global-fetch' ? '-' : formatRatioSpread(ratioSpread(cpu[t], cpu['global-fetch'], BATCHES)),
    formatMs(median(warm[t].map((s) => s.ms))),
    formatMs(median(warm[t].map((s) => s.cpuMs))),
  ]);
  const saved = median(first['global-fetch']) - median(first.undici);
  const savedCpu = median(cpu['global-fetch']) - median(cpu.undici);
  return {
    title: "Slack post from the poller: WebClient's transport",
    header: [
      'transport',
      'first post',
      'x default',
      'process CPU',
      'x default',
      'warm post',
      'warm CPU/post',
    ],
    rows,
    notes: [
      `First post: ${info.coldRounds} fresh processes per transport, interleaved; from the end of loading the ` +
        `bundle (${formatKb(info.bytes)}: the Atlas client's undici, WebClient loaded on the first post as the ` +
        'poller loads it) to the answer, with the lowest and highest median of ' +
        `${BATCHES} batches; "process CPU" is the whole process's to that point. Warm: ${info.warmPosts} posts per ` +
        'transport, each in its own process, interleaved. Slack stand-in on 127.0.0.1; ' +
        `${info.posted} messages arrived.`,
      `The first post of a cold poller costs ${formatMs(saved)} less (${formatMs(savedCpu)} less CPU) through the ` +
        "bundle's undici: WebClient's default loads and compiles Node's own fetch stack (a second undici, WHATWG " +
        'streams, Headers and Response) on its first call. WebClient 8 takes a `fetch` option typed as the narrow ' +
        '`FetchFunction` it calls (string or FormData body, headers object, redirect, signal; status, headers.get, ' +
        'text), so the poller can hand it fetchOverUndici without giving up anything it uses.',
    ],
  };
}

if (require.main === module) {
  runStandalone(run({ quick: process.argv.includes('--quick') }), { cleanup: removeBenchBundles });
}
