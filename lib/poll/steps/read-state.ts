import { CorruptObjectError } from '../../errors';
import type { PollDeps } from '../deps';
import { failStep, type OrgPoll } from '../org-poll';
import { POLL_STEPS } from '../report';

/**
 * Step 1: read the organisation's state (none: a first run). A state object that cannot be read (not JSON, refused by
 * the state codec, a future version, edited by hand) would otherwise fail every poll of the organisation forever: it
 * is copied aside unchanged (`quarantineState`), logged as an error, and this run re-baselines the organisation from
 * the listing. The re-baseline's save replaces exactly the unreadable version (`IfMatch` on its ETag), so a run that
 * repaired the state meanwhile wins and this one merges into it. False when the poll of the organisation cannot go on.
 */
export async function readOrgState(deps: PollDeps, poll: OrgPoll): Promise<boolean> {
  try {
    const stored = await deps.stateStore.readState(poll.orgId, deps.deadline.signal);
    poll.base = stored?.state;
    poll.etag = stored?.etag;
    poll.orgName = stored?.state.orgName;
    return true;
  } catch (error) {
    if (error instanceof CorruptObjectError) return quarantineState(deps, poll, error);
    failStep(poll, POLL_STEPS.readState, error);
    return false;
  }
}

async function quarantineState(
  deps: PollDeps,
  poll: OrgPoll,
  unreadable: CorruptObjectError,
): Promise<boolean> {
  try {
    poll.resetFrom = await deps.stateStore.quarantineState(
      poll.orgId,
      unreadable.etag,
      new Date(poll.now),
      deps.deadline.signal,
    );
  } catch (error) {
    failStep(poll, POLL_STEPS.readState, error);
    return false;
  }
  poll.etag = unreadable.etag;
  poll.log.error('state object could not be read: moved aside, and the organisation re-baselined', {
    error: unreadable,
    movedTo: poll.resetFrom,
  });
  return true;
}
