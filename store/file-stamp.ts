// A time as file and folder names carry it: an ISO time with ":" and "." made "-".

/**
 * `iso` (default: now) with the characters file systems and shells dislike made "-".
 * @example
 * fileStamp("2026-12-01T22:19:21.123Z"); // "2026-12-01T22-19-21-123Z"
 */
export function fileStamp(iso: string = new Date().toISOString()): string {
  return iso.replace(/[:.]/g, "-");
}
