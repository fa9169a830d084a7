/** The slice of a Durable Object namespace binding flowgate uses: the object of a name, and its RPC stub. */
export interface DurableObjectNamespaceOf<Stub> {
  idFromName(name: string): unknown;
  get(id: never): Stub;
}

/** Whether a binding is a Durable Object namespace; a missing binding, a var or another kind of binding is not. */
export function isDurableObjectNamespace<Stub>(binding: unknown): binding is DurableObjectNamespaceOf<Stub> {
  return typeof binding === 'object' && binding !== null && typeof (binding as { idFromName?: unknown }).idFromName === 'function';
}
