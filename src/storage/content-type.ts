import { badInput } from "../errors/index.js";

/** The type a file is stored with when the upload names none. */
export const DEFAULT_CONTENT_TYPE = "application/octet-stream";

const TOKEN = "[a-z0-9][a-z0-9!#$&^_.+-]{0,63}";

/** `type/subtype`, optionally `; charset=…`: nothing a header could be split with. */
const CONTENT_TYPE = new RegExp(`^${TOKEN}/${TOKEN}(; ?charset=[a-z0-9._-]{1,40})?$`);

/**
 * Checks the media type an upload is to be stored and served with,
 * lowercased. BAD_USER_INPUT naming `contentType` otherwise.
 */
export function parseContentType(value: string | null | undefined): string {
  if (value === null || value === undefined || value.trim() === "") return DEFAULT_CONTENT_TYPE;
  const type = value.trim().toLowerCase();
  if (!CONTENT_TYPE.test(type)) {
    throw badInput("contentType", "contentType must be a media type like text/csv or image/png.");
  }

  return type;
}
