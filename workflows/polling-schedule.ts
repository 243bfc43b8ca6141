// The wait between state polls: capped exponential backoff, clipped to what is left before the deadline.
import type { PollingPolicy } from '../contract/export-visualization';

export function nextPollDelay(previous: number | undefined, policy: PollingPolicy): number {
  if (previous === undefined) return policy.initialInterval;
  return Math.min(Math.round(previous * policy.backoffCoefficient), policy.maxInterval);
}

/** Never sleep past the deadline: the poll right after it decides between done and timed out. */
export function clipToDeadline(delay: number, now: number, deadline: number): number {
  return Math.max(0, Math.min(delay, deadline - now));
}
