/**
 * Memoise an async loader for the life of the process (one read per cold start). A failed load is forgotten so the
 * next invocation tries again instead of failing forever on a passing fault.
 */
export function once<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= load().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}
