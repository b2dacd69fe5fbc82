/**
 * Ctrl-C and SIGTERM stop the run gracefully once: the table is printed and partial results are
 * written, marked interrupted. A second Ctrl-C exits at once.
 */
export function onInterrupt(stopGracefully: (signal: NodeJS.Signals) => void): () => void {
  let received = 0;
  const handler = (signal: NodeJS.Signals) => {
    received++;
    if (received === 1) {
      process.stderr.write(`\n${signal}: stopping gracefully and keeping partial results (press Ctrl-C again to exit at once)\n`);
      stopGracefully(signal);
    } else if (signal === 'SIGINT') {
      process.stderr.write('\nsecond SIGINT: exiting now\n');
      process.exit(130);
    }
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
