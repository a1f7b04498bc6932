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
