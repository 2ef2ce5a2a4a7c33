// Version: must match EDDY_VERSION_* in include/eddy.h (checked by the C tests).

import CEddyABI

/// EDDY_VERSION_HEX: (major << 16) | (minor << 8) | patch.
let eddyVersionHex: UInt32 = (0 << 16) | (1 << 8) | 0
private let eddyVersionText: StaticString = "0.1.0"

@c @implementation
public func eddy_version() -> UInt32 {
    eddyVersionHex
}

@c @implementation
public func eddy_version_string() -> UnsafePointer<CChar>? {
    UnsafeRawPointer(eddyVersionText.utf8Start).assumingMemoryBound(to: CChar.self)
}
