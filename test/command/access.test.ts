import { describe, expect, it } from 'vitest';
import { isAllowed } from '../../lib/command/access';
import type { SlackAccess } from '../../lib/config';

const teamOnly: SlackAccess = { teamIds: new Set(['T1']), channelIds: undefined, userIds: undefined };
const strict: SlackAccess = {
  teamIds: new Set(['T1']),
  channelIds: new Set(['C1']),
  userIds: new Set(['U1']),
};

describe('isAllowed', () => {
  it('allows any channel and user of an allowed workspace when no lists are set', () => {
    expect(isAllowed(teamOnly, { teamId: 'T1', channelId: 'C9', userId: 'U9' })).toBe(true);
  });

  it('refuses another workspace', () => {
    expect(isAllowed(teamOnly, { teamId: 'T2', channelId: 'C1', userId: 'U1' })).toBe(false);
  });

  it('refuses a missing or malformed workspace id', () => {
    expect(isAllowed(teamOnly, { channelId: 'C1', userId: 'U1' })).toBe(false);
    expect(isAllowed(teamOnly, { teamId: 't1' })).toBe(false);
  });

  it('checks the channel and the user when their lists are set', () => {
    expect(isAllowed(strict, { teamId: 'T1', channelId: 'C1', userId: 'U1' })).toBe(true);
    expect(isAllowed(strict, { teamId: 'T1', channelId: 'C2', userId: 'U1' })).toBe(false);
    expect(isAllowed(strict, { teamId: 'T1', channelId: 'C1', userId: 'U2' })).toBe(false);
    expect(isAllowed(strict, { teamId: 'T1', userId: 'U1' })).toBe(false);
    expect(isAllowed(strict, { teamId: 'T1', channelId: 'C1' })).toBe(false);
  });
});
