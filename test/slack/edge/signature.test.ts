import { describe, expect, it } from 'vitest';
import { signSlackRequest, verifySlackSignature } from '../../../lib/slack/edge/signature';
import { SLACK_VECTOR } from '../../command/fixtures';

const vectorNow = (Number(SLACK_VECTOR.timestamp) + 30) * 1000;

describe('Slack request signatures', () => {
  it("computes Slack's official test vector", () => {
    expect(signSlackRequest(SLACK_VECTOR.signingSecret, SLACK_VECTOR.timestamp, SLACK_VECTOR.body)).toBe(
      SLACK_VECTOR.signature,
    );
  });

  it('accepts the official vector as a string and as bytes', () => {
    for (const body of [SLACK_VECTOR.body, Buffer.from(SLACK_VECTOR.body)]) {
      expect(verifySlackSignature({ ...SLACK_VECTOR, body, now: vectorNow })).toBe('ok');
    }
  });

  it('refuses a wrong signature, another secret and a changed body', () => {
    const wrong = `v0=${'0'.repeat(64)}`;
    expect(verifySlackSignature({ ...SLACK_VECTOR, signature: wrong, now: vectorNow })).toBe('mismatch');
    expect(verifySlackSignature({ ...SLACK_VECTOR, signingSecret: 'another-secret', now: vectorNow })).toBe(
      'mismatch',
    );
    expect(verifySlackSignature({ ...SLACK_VECTOR, body: `${SLACK_VECTOR.body}x`, now: vectorNow })).toBe(
      'mismatch',
    );
    expect(verifySlackSignature({ ...SLACK_VECTOR, signature: 'v1=abc', now: vectorNow })).toBe('mismatch');
  });

  it('refuses timestamps more than five minutes away, in the past or the future', () => {
    const ts = Number(SLACK_VECTOR.timestamp) * 1000;
    expect(verifySlackSignature({ ...SLACK_VECTOR, now: ts + 300_000 })).toBe('ok');
    expect(verifySlackSignature({ ...SLACK_VECTOR, now: ts + 301_000 })).toBe('stale');
    expect(verifySlackSignature({ ...SLACK_VECTOR, now: ts - 301_000 })).toBe('stale');
    expect(verifySlackSignature({ ...SLACK_VECTOR, timestamp: 'yesterday', now: vectorNow })).toBe('stale');
  });

  it('reports missing headers', () => {
    expect(verifySlackSignature({ ...SLACK_VECTOR, signature: undefined, now: vectorNow })).toBe('missing');
    expect(verifySlackSignature({ ...SLACK_VECTOR, timestamp: undefined, now: vectorNow })).toBe('missing');
    expect(verifySlackSignature({ ...SLACK_VECTOR, signature: '', now: vectorNow })).toBe('missing');
  });
});
