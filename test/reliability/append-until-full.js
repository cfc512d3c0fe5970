// Runs inside a private mount namespace with a tiny tmpfs at DIR (see journal-fs.rel-spec.ts): appends records
// to the real ClockJournal (the built one) with no free-space reservation until the file system is full, so the
// writes really come up short, and prints what happened as JSON.
// Usage: node append-until-full.js DIR CAPACITY_BYTES
require('reflect-metadata');
const { readFileSync, statSync } = require('node:fs');
const { join } = require('node:path');
const dist = join(__dirname, '..', '..', 'dist', 'backend');
const { ClockJournal } = require(join(dist, 'activity-log', 'clock-journal.js'));
const { AppConfig } = require(join(dist, 'config', 'app.config.js'));
const { Logger } = require('@nestjs/common');

Logger.overrideLogger(false);

async function main() {
  const [dir, capacityText] = process.argv.slice(2);
  const capacity = Number(capacityText);
  const journal = new ClockJournal(Object.assign(new AppConfig(), { DATA_DIR: dir }));
  const acked = [];
  const failures = [];
  const size = () => {
    try {
      return statSync(journal.file).size;
    } catch {
      return 0;
    }
  };
  // Two sizes of record, so that after a failed long one a short one may still fit in what is left.
  for (let i = 0; i < 500 && failures.length < 6; i++) {
    const record = { id: `r${i}`, state: 'confirmed', beforeMs: i, before: 'x', afterMs: i + 1, after: 'y', stepMs: 1, source: 'manual', monotonicMs: i, client: 'p'.repeat(i % 3 === 2 ? 20 : 280) };
    const length = Buffer.byteLength(JSON.stringify(record)) + 1;
    const before = size();
    try {
      await journal.append(record);
      acked.push(record);
    } catch (error) {
      // A short write: there was room for part of the line but not all of it.
      failures.push({ code: error.code, message: error.message, sizeBefore: before, sizeAfter: size(), length, short: before < capacity && before + length > capacity });
    }
  }
  process.stdout.write(JSON.stringify({ acked, failures, text: readFileSync(journal.file, 'utf8'), health: journal.health(), file: journal.file }));
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack));
  process.exit(1);
});
