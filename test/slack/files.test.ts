import type { WebClient } from '@slack/web-api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_SLACK_BOT_TOKEN, type SlackStandIn, startSlackStandIn } from '../../infra/local/slack';
import { SlackDeliveryError } from '../../lib/errors';
import { silentLogger } from '../../lib/log';
import { createDeadline } from '../../lib/retry';
import {
  FILE_PROCESSING_DELAYS_MS,
  isFileNotReady,
  postWhileFileProcesses,
  slackFileImageBlock,
  uploadSlackFile,
} from '../../lib/slack/files';
import { createSlackNotifier } from '../../lib/slack/notifier';
import { spendChartAltText } from '../../lib/spend/chart/alt-text';
import { renderSpendChartPng } from '../../lib/spend/chart/render-png';
import { standInWebClient } from '../infra/slack/web-client';
import { DEMO_INPUT } from '../spend/chart/fixtures';

const CHANNEL = 'C0CHARTS1';
/** How long the stand-in takes to "process" a completed upload, by its clock (which the tests move). */
const PROCESSING_MS = 1500;

let slack: SlackStandIn;
let web: WebClient;
let now = Date.UTC(2025, 2, 20, 9, 0, 0);
let chart: Uint8Array;

function webClient(token: string | undefined): WebClient {
  return standInWebClient(slack, token);
}

/** Waits by moving the stand-in's clock, and remembers how long each wait was. */
function fakeSleep() {
  const waits: number[] = [];
  return {
    waits,
    sleep: async (ms: number) => {
      waits.push(ms);
      now += ms;
    },
  };
}

const upload = (bytes: Uint8Array = chart) =>
  uploadSlackFile(web, {
    bytes,
    filename: 'spend-2025-03.png',
    title: 'Acme Analytics (production): spend, March 2025',
    altText: spendChartAltText(DEMO_INPUT),
  });

const chartMessage = (fileId: string) => ({
  channel: CHANNEL,
  text: 'Spend so far in March 2025: $4,228.32',
  blocks: [slackFileImageBlock(fileId, spendChartAltText(DEMO_INPUT))],
});

const postOutcomes = () =>
  slack.requests.filter((r) => r.method === 'chat.postMessage').map((r) => r.error ?? 'ok');

beforeAll(async () => {
  slack = await startSlackStandIn({ channels: [CHANNEL], fileProcessingMs: PROCESSING_MS, clock: () => now });
  web = webClient(LOCAL_SLACK_BOT_TOKEN);
  chart = await renderSpendChartPng(DEMO_INPUT);
});

afterAll(async () => {
  await slack.close();
});

afterEach(() => {
  slack.reset();
});

describe('uploadSlackFile with the real WebClient', () => {
  it('uploads the chart in three steps, with its alt text, unshared, and returns the file id', async () => {
    const id = await upload();

    expect(id).toMatch(/^F[A-Z0-9]{8,}$/);
    const file = slack.files.get(id);
    expect(file?.bytes?.equals(Buffer.from(chart))).toBe(true);
    expect(file).toMatchObject({
      filename: 'spend-2025-03.png',
      length: chart.byteLength,
      altText: spendChartAltText(DEMO_INPUT),
      title: 'Acme Analytics (production): spend, March 2025',
      channel: undefined,
    });
    expect(slack.requests.map((r) => [r.method, r.status])).toEqual([
      ['files.getUploadURLExternal', 200],
      ['upload', 200],
      ['files.completeUploadExternal', 200],
    ]);
    expect(slack.messages).toEqual([]);
  });

  it('names Slack’s refusal of the upload (e.g. uploads disabled for the workspace)', async () => {
    slack.failNext({ method: 'files.getUploadURLExternal', error: 'file_uploads_disabled' });

    await expect(upload()).rejects.toThrow(SlackDeliveryError);
    slack.failNext({ method: 'files.getUploadURLExternal', error: 'file_uploads_disabled' });
    await expect(upload()).rejects.toMatchObject({ slackError: 'file_uploads_disabled' });
  });

  it('fails with upload_failed and the status when the upload URL refuses the bytes, without echoing the URL', async () => {
    slack.failNext({ method: 'upload', status: 500 });

    const error = await upload().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(SlackDeliveryError);
    expect(error).toMatchObject({ slackError: 'upload_failed', status: 500 });
    expect(String((error as Error).message)).not.toContain('/upload/v1/');
    expect(slack.requests.map((r) => r.method)).not.toContain('files.completeUploadExternal');
  });

  it('reports not_authed for a client without a token', async () => {
    const anonymous = webClient(undefined);

    await expect(
      uploadSlackFile(anonymous, { bytes: chart, filename: 'a.png', title: 'a', altText: 'a' }),
    ).rejects.toMatchObject({ slackError: 'not_authed' });
  });
});

describe('posting a message with the uploaded chart', () => {
  it('retries the post while Slack processes the file, then the image block is accepted', async () => {
    const id = await upload();
    const { waits, sleep } = fakeSleep();

    const result = await postWhileFileProcesses(() => web.chat.postMessage(chartMessage(id)), { sleep });

    expect(result.ok).toBe(true);
    expect(waits).toEqual([1000, 2000]);
    expect(postOutcomes()).toEqual(['invalid_blocks', 'invalid_blocks', 'ok']);
    expect(slack.messagesIn(CHANNEL)[0]?.blocks).toEqual([
      { type: 'image', slack_file: { id }, alt_text: spendChartAltText(DEMO_INPUT) },
    ]);
  });

  it('posts at once when the file is already processed', async () => {
    const id = await upload();
    now += PROCESSING_MS;
    const { waits, sleep } = fakeSleep();

    await postWhileFileProcesses(() => web.chat.postMessage(chartMessage(id)), { sleep });

    expect(waits).toEqual([]);
    expect(postOutcomes()).toEqual(['ok']);
  });

  it('gives up after the last delay with Slack’s invalid_blocks refusal (an id Slack never accepts)', async () => {
    const { waits, sleep } = fakeSleep();

    const error = await postWhileFileProcesses(() => web.chat.postMessage(chartMessage('F0NOSUCHFILE')), {
      sleep,
    }).catch((e: unknown) => e);

    expect(isFileNotReady(error)).toBe(true);
    expect(error).toMatchObject({
      data: { error: 'invalid_blocks', errors: ['invalid slack file [json-pointer:/blocks/0/slack_file]'] },
    });
    expect(waits).toEqual([...FILE_PROCESSING_DELAYS_MS]);
    expect(postOutcomes()).toHaveLength(FILE_PROCESSING_DELAYS_MS.length + 1);
  });

  it('does not wait past the deadline', async () => {
    const id = await upload();
    const { waits, sleep } = fakeSleep();

    await expect(
      postWhileFileProcesses(() => web.chat.postMessage(chartMessage(id)), {
        sleep,
        deadline: createDeadline(500),
      }),
    ).rejects.toMatchObject({ data: { error: 'invalid_blocks' } });
    expect(waits).toEqual([]);
  });

  it('does not retry any other refusal', async () => {
    const id = await upload();
    const { waits, sleep } = fakeSleep();

    await expect(
      postWhileFileProcesses(() => web.chat.postMessage({ ...chartMessage(id), channel: 'C0UNKNOWN1' }), {
        sleep,
      }),
    ).rejects.toMatchObject({ data: { error: 'channel_not_found' } });
    expect(waits).toEqual([]);
  });

  it('works around the notifier, whose SlackDeliveryError keeps Slack’s answer as its cause', async () => {
    const id = await upload();
    const notifier = createSlackNotifier({
      transport: { kind: 'bot', client: web, defaultChannel: CHANNEL, routes: new Map() },
      log: silentLogger,
    });
    const { waits, sleep } = fakeSleep();
    const { channel: _channel, ...message } = chartMessage(id);

    await postWhileFileProcesses(() => notifier.post('org-1', message), { sleep });

    expect(waits).toEqual([1000, 2000]);
    expect(postOutcomes()).toEqual(['invalid_blocks', 'invalid_blocks', 'ok']);
  });
});

describe('slackFileImageBlock', () => {
  it('refers to the file by id, with plain alt text capped at Block Kit’s 2,000 characters', () => {
    const block = slackFileImageBlock('F0ABCDEF12', `Spend\u0007 ${'x'.repeat(3000)}`, 'March');

    expect(block).toMatchObject({ type: 'image', slack_file: { id: 'F0ABCDEF12' } });
    expect(String(block.alt_text).startsWith('Spend x')).toBe(true);
    expect(String(block.alt_text)).toHaveLength(2000);
    expect(block.title).toEqual({ type: 'plain_text', text: 'March' });
  });
});
