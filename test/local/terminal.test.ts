import { describe, expect, it } from 'vitest';
import {
  boxed,
  createPaint,
  formatDemoStep,
  formatDigestLine,
  formatFailures,
  formatLogLine,
  formatPollLine,
  maskSecret,
  sanitize,
} from '../../infra/local/terminal';
import { ConfigError } from '../../lib/errors';
import { type OrgPollReport, summarise } from '../../lib/poll/report';

const plain = createPaint(false);
const ORG = '65f0c0ffee00de0000000001';

function org(overrides: Partial<OrgPollReport> = {}): OrgPollReport {
  return {
    orgId: ORG,
    firstRun: false,
    invoicesSeen: 14,
    invalidInvoices: 0,
    newInvoices: 0,
    statusChanges: [{ invoiceId: 'c00000000000000000000002', from: 'CLOSED', to: 'PAID' }],
    updatedOnly: 1,
    changed: 2,
    archived: 1,
    identical: 1,
    notified: 1,
    spendRecords: 0,
    spendAlerts: 0,
    deferred: 0,
    conflicts: 0,
    saved: true,
    errors: [],
    ...overrides,
  };
}

describe('formatPollLine', () => {
  it('summarises a poll: invoices seen, the changes seen with each status move, CSVs written, messages and errors', () => {
    const report = summarise([org()], '2026-11-21T12:00:00Z', '2026-11-21T12:00:01Z');

    const line = formatPollLine(
      { n: 3, at: Date.parse('2026-11-21T12:00:00Z'), durationMs: 1234, report },
      plain,
    );

    expect(line).toMatch(
      /^\[\d\d:\d\d:\d\d\] poll 3 ✔ 14 seen · 1 status change \(CLOSED→PAID\) · 1 re-archived · 1 CSV written · 1 message · 0 errors \(1\.2 s\)$/,
    );
  });

  it('counts each status move across organisations, and says what was skipped, deferred or reset', () => {
    const second = org({
      orgId: '65f0c0ffee00de0000000002',
      newInvoices: 2,
      statusChanges: [
        { invoiceId: 'c00000000000000000000003', from: 'CLOSED', to: 'PAID' },
        { invoiceId: 'c00000000000000000000004', from: 'PENDING', to: '\u001b[31mCLOSED' },
      ],
      updatedOnly: 0,
      archived: 0,
      notified: 2,
      deferred: 1,
      invalidInvoices: 1,
      stateReset: 'atlas-invoices/state/quarantine/65f0c0ffee00de0000000002-20261121T120000Z.json',
    });
    const report = summarise([org(), second], 'a', 'b');

    const line = formatPollLine({ n: 4, at: 0, durationMs: 10, report }, plain);

    expect(line).toContain(
      '28 seen · 2 new · 3 status changes (CLOSED→PAID ×2, PENDING→[31mCLOSED) · 1 re-archived · 1 CSV written · ' +
        '3 messages · 1 deferred · 1 invalid skipped · 1 state reset · 0 errors',
    );
  });

  it('says how many spend records were written and spend alerts posted, when there are any', () => {
    const quiet = summarise([org()], 'a', 'b');
    const spend = summarise([org({ spendRecords: 1, spendAlerts: 2 }), org({ spendRecords: 1 })], 'a', 'b');

    const line = formatPollLine({ n: 2, at: 0, durationMs: 10, report: spend }, plain);

    expect(formatPollLine({ n: 1, at: 0, durationMs: 10, report: quiet }, plain)).not.toContain('spend');
    expect(line).toContain(
      '2 CSVs written · 2 spend records written · 2 messages · 2 spend alerts · 0 errors',
    );
  });

  it('marks a failed poll and lists each failure with its organisation and step', () => {
    const failure = { step: 'list' as const, error: 'AtlasApiError', message: 'Atlas answered 503' };
    const report = summarise([org({ errors: [failure], archived: 0 })], 'a', 'b');

    const line = formatPollLine({ n: 1, at: 0, durationMs: 10, report }, plain);
    const failures = formatFailures(report, plain);

    expect(line).toContain('poll 1 ✖');
    expect(line).toContain('1 error');
    expect(failures).toEqual([`    ✖ ${ORG} list: AtlasApiError: Atlas answered 503`]);
  });

  it('says so when the poll failed before it had a report', () => {
    expect(formatPollLine({ n: 2, at: 0, durationMs: 0 }, plain)).toContain('poll 2 ✖ failed before polling');
  });
});

describe('formatDigestLine', () => {
  const channel = {
    channel: 'C0LOCAL00',
    orgIds: [ORG],
    posted: true,
    missing: [],
    unreadable: [],
    charts: 1,
  };

  it("says where each channel's digest went, with its organisations and charts", () => {
    const line = formatDigestLine(
      {
        report: {
          ok: true,
          channels: [channel, { ...channel, channel: 'C2', orgIds: [ORG, ORG], charts: 0, missing: [ORG] }],
        },
      },
      plain,
    );

    expect(line).toBe(
      '    ✔ digest posted to C0LOCAL00: 1 organisation, 1 chart\n' +
        '    ✔ digest posted to C2: 2 organisations, 0 charts, 1 without spend yet',
    );
  });

  it('says why a channel got none, and when the handler could not run at all', () => {
    const refused = {
      ...channel,
      posted: false,
      charts: 0,
      error: { name: 'SlackApiError', message: 'channel_not_found\u001b[2J' },
    };

    expect(formatDigestLine({ report: { ok: false, channels: [refused] } }, plain)).toBe(
      '    ✖ digest not posted to C0LOCAL00: SlackApiError: channel_not_found[2J',
    );
    expect(formatDigestLine({ error: new ConfigError('SLACK_BOT_TOKEN', 'is required') }, plain)).toMatch(
      /^ {4}✖ the digest could not run: ConfigError: .*SLACK_BOT_TOKEN/,
    );
  });
});

describe('formatDemoStep', () => {
  it('describes each change of the demo day', () => {
    const step = {
      date: '2026-11-22',
      changes: [
        {
          orgId: ORG,
          invoiceId: '854895d0ef53d40992528464',
          kind: 'accrued' as const,
          to: 'PENDING' as const,
        },
        {
          orgId: ORG,
          invoiceId: '632b82371229653be9604753',
          kind: 'status' as const,
          from: 'CLOSED' as const,
          to: 'PAID' as const,
        },
      ],
    };

    expect(formatDemoStep(step, 0, plain)).toMatch(
      /demo day 2026-11-22: 854895d0… accrued a day \(PENDING\); 632b8237… CLOSED → PAID$/,
    );
  });
});

describe('sanitize and maskSecret', () => {
  it('removes terminal control sequences and bidi overrides but keeps new lines', () => {
    expect(sanitize('a\u001b[2Jb\u0007c\u202ed\ne')).toBe('a[2Jbcd\ne');
  });

  it('shows only what kind of credential is set', () => {
    const token = 'xoxb-1234567890-abcdefghijkl';

    expect(maskSecret(token)).toBe(`xoxb-…(${token.length} characters)`);
    expect(maskSecret('https://hooks.slack.com/services/T1/B2/secretpart')).not.toContain('secretpart');
    expect(maskSecret('plain-signing-secret')).not.toContain('signing');
  });
});

describe('formatLogLine', () => {
  const error = JSON.stringify({
    level: 'error',
    message: 'a Slack listener failed',
    error: { message: 'boom' },
  });
  const info = JSON.stringify({ level: 'info', message: 'poll finished' });

  it('shows only errors, in one line, unless verbose', () => {
    expect(formatLogLine(error, false, plain)).toBe('    ⚠ a Slack listener failed: boom');
    expect(formatLogLine(info, false, plain)).toBeUndefined();
    expect(formatLogLine('not json', false, plain)).toBeUndefined();
  });

  it('shows every line as written when verbose', () => {
    expect(formatLogLine(info, true, plain)).toBe(info);
  });
});

describe('boxed', () => {
  it('puts a rendered message under a title, inside a left rule', () => {
    expect(boxed('Slack C1', 'line 1\nline 2', plain)).toBe('┌ Slack C1\n│ line 1\n│ line 2\n└');
  });
});
