/**
 * Can each engine run on this machine? Starts it for real (a session, a blank page, closed), in a process of
 * its own so the jest file can decide at collection time which engines it skips, and say why.
 *
 *   ts-node --transpile-only test/browser-engines/preflight.ts webkit firefox
 *
 * prints one JSON object: engine -> null (it runs) or the reason it does not.
 */
import { EngineName, missingBinaries, openFirefox, openWebKit } from './engines';

async function check(engine: EngineName): Promise<string | null> {
  const missing = missingBinaries(engine);
  if (missing) return missing;
  try {
    if (engine === 'webkit') {
      const session = await openWebKit();
      try {
        await session.driver.get('about:blank');
      } finally {
        await session.close();
      }
    } else {
      const session = await openFirefox();
      try {
        await session.page.goto('about:blank');
      } finally {
        await session.close();
      }
    }
    return null;
  } catch (e) {
    return `it did not start: ${e instanceof Error ? e.message : String(e)}`.replace(/\s+/g, ' ').slice(0, 1000);
  }
}

async function main(): Promise<void> {
  const engines = process.argv.slice(2) as EngineName[];
  const result: Record<string, string | null> = {};
  for (const engine of engines) result[engine] = await check(engine);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(String(e));
    process.exit(1);
  },
);
