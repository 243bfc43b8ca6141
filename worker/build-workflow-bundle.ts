// `tsx worker/build-workflow-bundle.ts <file>`: bundles the workflow code into <file> (written whole, then renamed).
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOWS_PATH } from './workflow-bundle';

async function main(target: string | undefined): Promise<void> {
  if (!target) throw new Error('usage: build-workflow-bundle.ts <output file>');
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: {
      log: () => undefined,
      trace: () => undefined,
      debug: () => undefined,
      info: () => undefined,
      warn: console.warn,
      error: console.error,
    },
  });
  await mkdir(path.dirname(target), { recursive: true });
  // Workers starting at the same time may build the same bundle; each renames its own complete file into place.
  const partial = `${target}.${process.pid}.partial`;
  await writeFile(partial, code);
  await rename(partial, target);
}

main(process.argv[2]).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
