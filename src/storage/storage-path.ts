import { badInput } from "../errors/index.js";

/** Longest path inside an area, in UTF-8 bytes. */
export const MAX_PATH_BYTES = 1024;

/** Longest single segment (file or folder name), in bytes: the common file system limit. */
export const MAX_SEGMENT_BYTES = 255;

/** Most folders deep a path may go, the file included. */
export const MAX_SEGMENTS = 32;

/**
 * Letters, digits, space and `. _ - ( ) +`. ASCII only: no two spellings of
 * one name (NFC against NFD), no look-alike letters, and nothing a shell, a
 * URL or another file system reads as a separator or an escape (`/ \ % :`).
 */
const SEGMENT = /^[A-Za-z0-9 ._()+-]+$/;

/** A path inside one storage area, checked: see {@link parseStoragePath}. */
export interface StoragePath {
  /** The segments joined with `/`, as stored and shown. */
  readonly text: string;
  readonly segments: readonly string[];
}

function refuse(message: string): never {
  throw badInput("path", message);
}

function checkSegment(segment: string): void {
  if (segment === "") {
    refuse("path has an empty segment: no leading, trailing or doubled `/`.");
  }
  if (segment === "." || segment === "..") {
    refuse("path must not contain `.` or `..` segments.");
  }
  // Checked before the character set so the message says what was wrong.
  if (/[\\/]/.test(segment)) refuse("path must use `/` between segments, never `\\`.");
  if (segment.includes("%")) refuse("path must not contain percent-encoding (`%`).");
  if (/\p{Cc}/u.test(segment)) refuse("path must not contain NUL or control characters.");
  if (!SEGMENT.test(segment)) {
    refuse("path may use letters, digits, spaces and . _ - ( ) + only (ASCII).");
  }
  if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) {
    refuse(`Each segment of path may be at most ${MAX_SEGMENT_BYTES} bytes.`);
  }
  // Windows drops trailing dots and spaces, and a leading space hides in
  // listings: names that would read as another name are refused.
  if (/^ | $|\.$/.test(segment)) {
    refuse("A segment of path must not start with a space or end with a space or a dot.");
  }
}

/**
 * Checks segments that are already split (the HTTP route splits a URL's
 * path and decodes each segment alone, so a decoded `/` stays inside its
 * segment and is refused here). BAD_USER_INPUT naming `path` otherwise.
 */
export function parseStorageSegments(segments: readonly string[]): StoragePath {
  if (segments.length === 0) refuse("path must name a file.");
  if (segments.length > MAX_SEGMENTS) refuse(`path may be at most ${MAX_SEGMENTS} segments deep.`);
  segments.forEach(checkSegment);
  const text = segments.join("/");
  if (Buffer.byteLength(text) > MAX_PATH_BYTES) {
    refuse(`path may be at most ${MAX_PATH_BYTES} bytes long.`);
  }

  return { text, segments: [...segments] };
}

/**
 * Checks a relative path such as `reports/2025/q1.csv`: segments joined
 * with `/`, none of them empty, `.` or `..`; no absolute path, backslash,
 * percent sign, NUL or control character; at most 255 bytes a segment and
 * 1,024 bytes in all. BAD_USER_INPUT naming `path` otherwise.
 */
export function parseStoragePath(path: string): StoragePath {
  if (typeof path !== "string" || path === "") refuse("path must name a file.");
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) {
    refuse(`path may be at most ${MAX_PATH_BYTES} bytes long.`);
  }
  if (path.startsWith("/") || /^[A-Za-z]:/.test(path)) refuse("path must be relative.");

  return parseStorageSegments(path.split("/"));
}
