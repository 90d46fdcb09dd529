import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UNREACHABLE_MODULES } from '../../../infra/build';
import {
  App,
  AwsLambdaReceiver,
  BOLT_BUNDLE_STUBS,
  BOLT_DEEP_IMPORTS,
  LAMBDA_HANDLER_ARITY,
  LogLevel,
} from '../../../lib/slack/edge/bolt';
import { createBoltLogger } from '../../../lib/slack/edge/bolt-logger';
import { signSlackRequest } from '../../../lib/slack/edge/signature';
import { httpApiEvent } from '../../command/slack-events';
import { recordingLogger } from '../../support/fakes';

// Every fact lib/slack/edge/bolt.ts states about Bolt's insides, checked against the installed @slack/bolt. When a
// Bolt upgrade breaks one, the failure names it: update bolt.ts (and what relies on the fact) before deploying.
const root = path.resolve(__dirname, '..', '..', '..');
const fromProject = createRequire(path.join(root, 'package.json'));
const fromBolt = createRequire(fromProject.resolve('@slack/bolt/package.json'));
const boltVersion = (fromProject('@slack/bolt/package.json') as { version: string }).version;
const SECRET = 'bolt-facts-signing-secret';

describe(`the Bolt internals this project relies on (installed @slack/bolt ${boltVersion})`, () => {
  it.each(Object.entries(BOLT_DEEP_IMPORTS))('resolves the deep import %s (%s)', (_name, specifier) => {
    expect(
      () => fromProject.resolve(specifier),
      `${specifier} no longer exists in @slack/bolt`,
    ).not.toThrow();
  });

  it('finds what the edge uses in those files', () => {
    expect(typeof App, `${BOLT_DEEP_IMPORTS.app} has no default export App`).toBe('function');
    for (const method of ['command', 'action', 'error'] as const) {
      expect(typeof App.prototype[method], `App.prototype.${method} is gone`).toBe('function');
    }
    expect(LogLevel.INFO, `${BOLT_DEEP_IMPORTS.app} no longer re-exports LogLevel`).toBe('info');
    expect(typeof AwsLambdaReceiver, `${BOLT_DEEP_IMPORTS.awsLambdaReceiver} has no default export`).toBe(
      'function',
    );
    expect(typeof AwsLambdaReceiver.prototype.toHandler, 'AwsLambdaReceiver.toHandler is gone').toBe(
      'function',
    );
  });

  it.each([...BOLT_BUNDLE_STUBS])('resolves the bundle stub %s from @slack/bolt', (specifier) => {
    expect(
      () => fromBolt.resolve(specifier),
      `${specifier} is stubbed in the slash-command bundle but no longer resolves from @slack/bolt: drop or rename it`,
    ).not.toThrow();
  });

  it('still needs the receiver stubs: App.js loads the HTTP and Socket Mode receivers eagerly', () => {
    const appSource = readFileSync(fromProject.resolve(BOLT_DEEP_IMPORTS.app), 'utf8');
    for (const receiver of ['HTTPReceiver', 'SocketModeReceiver']) {
      expect(
        appSource.includes(`require("./receivers/${receiver}")`),
        `App.js no longer requires ${receiver} at load: its stub (and what it pulls in) may be dropped`,
      ).toBe(true);
    }
  });

  it('is what the slash-command bundle stubs', () => {
    expect(UNREACHABLE_MODULES['slack-command']).toEqual(expect.arrayContaining([...BOLT_BUNDLE_STUBS]));
  });

  it(`builds a ${LAMBDA_HANDLER_ARITY}-argument Lambda handler (Node 24 runtimes refuse a callback handler)`, () => {
    const handler = receiver().toHandler();

    expect(handler.length, 'AwsLambdaReceiver.toHandler() no longer returns a 2-argument handler').toBe(
      LAMBDA_HANDLER_ARITY,
    );
  });
});

describe('AwsLambdaReceiver behaviour the edge works around', () => {
  const formBody = new URLSearchParams({ command: '/invoice', text: 'help', team_id: 'T1' }).toString();

  it('throws on a form body whose Content-Type carries a charset (the edge strips parameters)', async () => {
    const event = httpApiEvent(formBody, {
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
    });

    await expect(receiver().toHandler()(event, {})).rejects.toThrow(SyntaxError);
  });

  it('decodes a base64 body as ASCII, so a correctly signed UTF-8 body fails its check (the edge decodes itself)', async () => {
    const body = JSON.stringify({ type: 'event_callback', text: 'factüre' });
    const ts = String(Math.floor(Date.now() / 1000));
    const event = httpApiEvent(
      body,
      {
        'content-type': 'application/json',
        'x-slack-request-timestamp': ts,
        'x-slack-signature': signSlackRequest(SECRET, ts, body),
      },
      true,
    );

    const result = await receiver({ signatureVerification: true }).toHandler()(event, {});

    expect(result.statusCode).toBe(401);
  });

  it('accepts a signature timestamped far in the future (the edge refuses it)', async () => {
    const ts = String(Math.floor(Date.now() / 1000) + 3_600);
    const event = httpApiEvent(formBody, {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': ts,
      'x-slack-signature': signSlackRequest(SECRET, ts, formBody),
    });

    const result = await receiver({ signatureVerification: true }).toHandler()(event, {});

    expect(result.statusCode, 'Bolt now refuses future timestamps itself').toBe(404);
  });
});

function receiver(options: { signatureVerification?: boolean } = {}) {
  return new AwsLambdaReceiver({
    signingSecret: SECRET,
    signatureVerification: options.signatureVerification ?? false,
    logger: createBoltLogger(recordingLogger()),
  });
}
