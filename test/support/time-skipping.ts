// Starts Temporal's time-skipping test server from the pinned binary (the SDK's own download cannot work offline).
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { installQuietRuntime } from './quiet-runtime';
import { findBinary } from '../../local-stack/binaries';

export function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  installQuietRuntime();
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: findBinary('temporal-test-server') } },
  });
}
