import fs from 'node:fs';

/**
 * The README's worked example, a key-worker service for 500 families, as the business case JSON
 * the API and `placebudget cba run` take: parsed afresh on each call, so a caller may change it.
 */
export function workedExample(): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(new URL('./key-worker-500-families.json', import.meta.url), 'utf8'));
}
