// eddy-delayserver entry point. Everything runs in nonisolated functions: closures
// written in top-level code would be main-actor isolated, and the main actor is never
// drained while `runtime.blockOn` holds the main thread.

#if canImport(Glibc)
import Glibc
#endif

exit(runDelayServer(CommandLine.arguments))
