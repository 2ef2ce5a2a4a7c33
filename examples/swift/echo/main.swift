// eddy-echo entry point (see Echo.swift). The work happens in nonisolated functions:
// top-level closures would be main-actor isolated, and the main actor is not drained
// while `runtime.blockOn` holds the main thread.

#if canImport(Glibc)
import Glibc
#endif

exit(runEcho(CommandLine.arguments))
