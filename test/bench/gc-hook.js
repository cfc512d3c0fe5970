// Preloaded into the server by the load bench only (`node --expose-gc -r test/bench/gc-hook.js
// dist/backend/main.js`): on SIGWINCH (a signal Nest's shutdown hooks leave alone) it forces full collections and prints `GC_MEMORY <rss> <heapUsed>`, so
// the bench reads memory once garbage is collected. The product itself has no such hook.
process.on('SIGWINCH', () => {
  for (let i = 0; i < 3; i++) global.gc();
  const m = process.memoryUsage();
  process.stdout.write(`GC_MEMORY ${m.rss} ${m.heapUsed} ${m.heapTotal} ${m.external} ${m.arrayBuffers}\n`);
});
