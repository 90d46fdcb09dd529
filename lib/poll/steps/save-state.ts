import { StateConflictError } from '../../errors';
import { DEFAULT_MAX_SAVE_ROUNDS, type PollDeps } from '../deps';
import { failStep, mergedState, type OrgPoll } from '../org-poll';
import { POLL_STEPS } from '../report';

/**
 * Step 6: save the state once, conditionally (`IfMatch` on the ETag read, `IfNoneMatch: '*'` when there was none),
 * recording exactly the work this run completed. `again` after a lost save: the newer state has been re-read into
 * `poll.base` and the caller decides and works once more against it before saving again; `done` otherwise (saved,
 * nothing to record, failed, or out of rounds: the failure is reported). Both requests carry the deadline's signal.
 */
export async function saveState(deps: PollDeps, poll: OrgPoll, round: number): Promise<'done' | 'again'> {
  // A reset must replace the unreadable object even when the organisation has no invoice to record.
  const toRecord =
    poll.completed.size > 0 || poll.watchingSince !== undefined || poll.resetFrom !== undefined;
  if (!toRecord) return 'done';
  try {
    poll.etag = await deps.stateStore.writeState(mergedState(poll), poll.etag, deps.deadline.signal);
    poll.counts.saved = true;
    return 'done';
  } catch (error) {
    if (!(error instanceof StateConflictError)) {
      failStep(poll, POLL_STEPS.save, error);
      return 'done';
    }
    poll.counts.conflicts += 1;
    poll.log.info('state changed under this run; re-reading and merging', { round });
    if (round >= (deps.maxSaveRounds ?? DEFAULT_MAX_SAVE_ROUNDS)) {
      failStep(poll, POLL_STEPS.save, error);
      return 'done';
    }
  }
  try {
    const stored = await deps.stateStore.readState(poll.orgId, deps.deadline.signal);
    poll.base = stored?.state;
    poll.etag = stored?.etag;
    return 'again';
  } catch (error) {
    failStep(poll, POLL_STEPS.save, error);
    return 'done';
  }
}
