'use strict';
// One benchmark sample in a fresh Node process, as Lambda's Node runtime runs a CommonJS handler: `require()` the
// built bundle, then do the spec's work. Plain JavaScript so that nothing but the bundle is compiled or loaded.
// Prints one line `BENCH_RESULT {json}` (times from process start, via performance.now(); `cpuMs`, the process's
// user + system CPU time on all its threads from its start, via process.cpuUsage()) and exits at once; anything else
// on stdout is the bundle's own logging. Exits 1 with a message on stderr when the work failed.
//
//   node child-runner.cjs <spec.json>
//
// Spec kinds:
//   load     require the bundle (its module scope builds its clients)
//   prepare  require, then `await handler.prepare()` (the poller's configuration and clients, no network)
//   invoke   require, then `await handler(event, context)`; with `expectStatus` the result's statusCode is checked
//            and with `expectText` its body must contain that text; a poll report must be `ok`
//   call     require, then `await bundle[exportName](...args)`
//   serve    a warm container of one bundle, driven over IPC (spawned with an IPC channel): require, send
//            `{ type: 'ready' }`; for each `{ type: 'sample' }` do one invoke/call of `work` (event `index` of
//            `work.events`) and answer `{ type: 'sample', ms, cpuMs }` (this process's time and CPU for that one
//            request); exit on `{ type: 'close' }` or when the channel closes
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

function cpuMs(since) {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

async function main() {
  const spec = JSON.parse(readFileSync(process.argv[2], 'utf8'));
  if (spec.kind === 'serve') return serve(spec);
  const bundle = require(spec.bundle);
  const loadedMs = performance.now();
  const result = await perform(bundle, spec, 0);
  return {
    loadedMs,
    doneMs: performance.now(),
    cpuMs: cpuMs(),
    ...(spec.returnResult ? { result } : {}),
  };
}

// Requests are handled one at a time, in the order the parent sends them; the IPC round trip is outside the times.
function serve(spec) {
  const bundle = require(spec.bundle);
  return new Promise((resolve, reject) => {
    let queue = Promise.resolve();
    process.on('message', (message) => {
      if (message?.type === 'close') {
        resolve(undefined);
        return;
      }
      if (message?.type !== 'sample') return;
      queue = queue
        .then(async () => {
          const cpuBefore = process.cpuUsage();
          const started = performance.now();
          await perform(bundle, spec.work, message.index ?? 0);
          const ms = performance.now() - started;
          process.send({ type: 'sample', ms, cpuMs: cpuMs(cpuBefore) });
        })
        .catch(reject);
    });
    process.once('disconnect', () => resolve(undefined));
    process.send({ type: 'ready', loadedMs: performance.now() });
  });
}

main().then(
  (result) => {
    if (result === undefined) process.exit(0);
    // Exit once the line is handed to the pipe: a result larger than the pipe's buffer (a PNG) would be cut off by
    // exiting straight after write().
    process.stdout.write(`${MARK}${JSON.stringify(result)}\n`, () => process.exit(0));
  },
  (error) => {
    process.stderr.write(`bench child failed: ${error?.stack ?? error}\n`);
    process.exit(1);
  },
);
