/** Resolves on the first SIGTERM or SIGINT. */
export function nextSignal(): Promise<NodeJS.Signals> {
  return new Promise((done) => {
    const onSignal = (sig: NodeJS.Signals) => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      done(sig);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

/**
 * Calls `reload` on each SIGHUP (`flowgate reload --pid N` sends one) until the returned function is called. A
 * handler also keeps SIGHUP's default action, ending the process, from stopping the gateway.
 */
export function onReloadSignal(reload: () => void): () => void {
  const onSignal = () => reload();
  process.on('SIGHUP', onSignal);
  return () => process.off('SIGHUP', onSignal);
}
