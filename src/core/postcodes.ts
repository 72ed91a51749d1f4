/**
 * UK postcodes, written once: a full postcode ("SE1 7PB"), and the parts a neighbourhood is
 * drawn with, its district ("W12", the outward code) and sector ("W12 7"). People type them in
 * any case and spacing; they are compared without spaces and shown with the one space.
 */

const FULL = /^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$/;
const DISTRICT_OR_SECTOR = /^[A-Z]{1,2}[0-9][A-Z0-9]?( [0-9])?$/;

/** Upper case, no spaces: how postcodes are compared and keyed ("se1 7pb" is "SE17PB"). */
export function normalisePostcode(input: string): string {
  return input.toUpperCase().replace(/\s+/g, '');
}

/** Whether the text is a full postcode in the shape Royal Mail uses, in any case and spacing. */
export function isFullPostcode(input: string): boolean {
  return FULL.test(normalisePostcode(input));
}

/** Upper case with the one space before the inward code: "se17pb" is shown "SE1 7PB". */
export function formatPostcode(input: string): string {
  const p = normalisePostcode(input);
  return p.length > 3 ? `${p.slice(0, -3)} ${p.slice(-3)}` : p;
}

/** A full postcode's district and sector ("SE1" and "SE1 7"), or null when it is not one. */
export function postcodeParts(input: string): { district: string; sector: string } | null {
  const p = normalisePostcode(input);
  if (!FULL.test(p)) return null;
  const district = p.slice(0, -3);
  return { district, sector: `${district} ${p.slice(-3, -2)}` };
}

/**
 * A district ("W12") or sector ("W12 7") as typed, upper case with one space: the space
 * matters, since "E14" is a district and "E1 4" a sector of another one.
 */
export function normalisePostcodeArea(text: string): string {
  return text.trim().replace(/\s+/g, ' ').toUpperCase();
}

/** Whether a normalised area is a district or a sector. */
export function isPostcodeArea(area: string): boolean {
  return DISTRICT_OR_SECTOR.test(area);
}

/** A full postcode is in an area list when its district or its sector is one of them. */
export function postcodeInAreas(areas: readonly string[], postcode: string): boolean {
  const parts = postcodeParts(postcode);
  return parts !== null && areas.some((area) => area === parts.district || area === parts.sector);
}
