/**
 * What the reliability suite tried and what happened, for test/RELIABILITY.md: each spec appends records here
 * as it goes (plain facts: how many times, which outcomes), and reliability-reporter.js writes the file at the
 * end of the jest run together with each test's pass/fail/skip.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const RECORDS = join(__dirname, '..', '..', 'test-artifacts', 'reliability', 'records.jsonl');

export interface ReliabilityRecord {
  /** The part of the suite: "fuzz", "netns", "faults", "load", "journal". */
  suite: string;
  /** What was tried, in words. */
  what: string;
  /** How many times (inputs, requests, kills, clients...). */
  times: number;
  /** What happened, in words, with the counts. */
  outcome: string;
}

export function record(r: ReliabilityRecord): void {
  mkdirSync(join(RECORDS, '..'), { recursive: true });
  appendFileSync(RECORDS, JSON.stringify({ ...r, at: new Date().toISOString() }) + '\n');
}

/** `{ A: 3, B: 1 }` -> "A 3, B 1", largest first. */
export function counts(map: Record<string, number> | Map<string, number>): string {
  const entries = map instanceof Map ? [...map] : Object.entries(map);
  return entries.sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
}

export function tally(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}
