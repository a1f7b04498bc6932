/**
 * A file where a folder must go, or a folder where a file must go: the
 * path is well-formed but collides with what the tenant already stores.
 */
export class StoragePathConflictError extends Error {
  override name = "StoragePathConflictError";
}

/**
 * Something on disk that no upload makes: a symbolic link, or a path that
 * resolves outside the tenant's area. Never the client's doing; logged, and
 * the client learns only that the file cannot be used.
 */
export class UnsafeStoragePathError extends Error {
  override name = "UnsafeStoragePathError";
}

/** The request body did not have the size the link was signed for. */
export class UploadSizeError extends Error {
  override name = "UploadSizeError";

  constructor(
    readonly direction: "larger" | "smaller",
    readonly expected: number,
  ) {
    super(`The body is ${direction} than the ${expected} bytes this link was signed for.`);
  }
}

/** An upload link that an earlier upload has used: a link stores one file. */
export class UsedUploadLinkError extends Error {
  override name = "UsedUploadLinkError";

  constructor() {
    super("This upload link was already used. Ask for a new one.");
  }
}

/**
 * The file read for a download is not the one its link was made for: it
 * was replaced while being opened. The response is cut off before its last
 * byte, so the client never takes it for the file it asked for.
 */
export class ChangedContentError extends Error {
  override name = "ChangedContentError";
}
