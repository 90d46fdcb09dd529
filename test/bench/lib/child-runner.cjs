'use strict';
// One benchmark sample in a fresh Node process, as Lambda's Node runtime runs a CommonJS handler: `require()` the
// built bundle, then do the spec's work. Plain JavaScript so that nothing but the bundle is compiled or loaded.
// Prints one line `BENCH_RESULT {json}` (times from process start, via performance.now()) and exits at once;
// anything else on stdout is the bundle's own logging. Exits 1 with a message on stderr when the work failed.
//
//   node child-runner.cjs <spec.json>
//
// Spec kinds:
//   load     require the bundle (its module scope builds its clients)
//   prepare  require, then `await handler.prepare()` (the poller's configuration and clients, no network)
//   invoke   require, then `await handler(event, context)`; with `expectStatus` the result's statusCode is checked
//            and with `expectText` its body must contain that text; a poll report must be `ok`
//   call     require, then `await bundle[exportName](...args)`
//   warm     require every bundle in `variants`, then `rounds` interleaved rounds of one sample each (after
//            `warmup` discarded rounds), each sample being one invoke/call as above; reports samples per variant
// With `returnResult: true` the result of an invoke or call is printed too (tests read it).
const { readFileSync } = require('node:fs');

const MARK = 'BENCH_RESULT ';

function lambdaContext(timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'bench',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:bench',
    memoryLimitInMB: '1024',
    awsRequestId: `bench-${process.pid}-${Math.random().toString(36).slice(2)}`,
    logGroupName: '/aws/lambda/bench',
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

function check(work, result) {
  if (work.expectStatus !== undefined && result?.statusCode !== work.expectStatus) {
    throw new Error(
      `expected status ${work.expectStatus}, got ${result?.statusCode}: ${String(result?.body).slice(0, 300)}`,
    );
  }
  if (work.expectText !== undefined && !String(result?.body ?? result).includes(work.expectText)) {
    throw new Error(
      `the answer lacks ${JSON.stringify(work.expectText)}: ${String(result?.body ?? result).slice(0, 300)}`,
    );
  }
  if (work.expectOk && result?.ok !== true)
    throw new Error(`the poll failed: ${JSON.stringify(result).slice(0, 300)}`);
}

async function perform(bundle, work, index) {
  if (work.kind === 'load') return undefined;
  if (work.kind === 'prepare') return bundle.handler.prepare();
  if (work.kind === 'invoke') {
    const events = work.events ?? [work.event];
    const result = await bundle.handler(events[index % events.length], lambdaContext(work.timeoutMs ?? 6000));
    check(work, result);
    return result;
  }
  if (work.kind === 'call') {
    const result = await bundle[work.exportName](...work.args);
    check(work, result);
    return result;
  }
  throw new Error(`unknown work kind ${work.kind}`);
}

async function main() {
  const spec = JSON.parse(readFileSync(process.argv[2], 'utf8'));
  if (spec.kind !== 'warm') {
    const bundle = require(spec.bundle);
    const loadedMs = performance.now();
    const result = await perform(bundle, spec, 0);
    return { loadedMs, doneMs: performance.now(), ...(spec.returnResult ? { result } : {}) };
  }
  const names = Object.keys(spec.variants);
  const bundles = Object.fromEntries(names.map((name) => [name, require(spec.variants[name].bundle)]));
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = -spec.warmup; round < spec.rounds; round++) {
    const offset = (((round % names.length) + names.length) % names.length) | 0;
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + offset) % names.length];
      const started = performance.now();
      await perform(bundles[name], spec.variants[name], round + spec.warmup);
      const elapsed = performance.now() - started;
      if (round >= 0) samples[name].push(elapsed);
    }
  }
  return { samples };
}

main().then(
  (result) => {
    // Exit once the line is handed to the pipe: a result larger than the pipe's buffer (a PNG) would be cut off by
    // exiting straight after write().
    process.stdout.write(`${MARK}${JSON.stringify(result)}\n`, () => process.exit(0));
  },
  (error) => {
    process.stderr.write(`bench child failed: ${error?.stack ?? error}\n`);
    process.exit(1);
  },
);
