// FFICall: call a C function whose signature is only known at run time.
//
// eddy_blocking_call(rt, fn, "i(pi)", args, nargs, &f) lets C and Python
// offload any blocking C function without writing a wrapper. The signature is
// parsed once, on the calling thread (so a malformed one is reported
// synchronously as EDDY_EINVAL), into libffi type arrays; `ffi_prep_cif` also
// runs there. The worker thread then only does `ffi_call`.
//
// Signature grammar: RET "(" ARG* ")" with RET in v i I l L z d f p and ARG in
// i I l L z d f p (no void argument, no spaces). Arguments are copied from the
// caller's eddy_value_t array (8-byte union): on a little-endian machine every
// narrower member (int32 .i, float .f) sits at offset 0, so libffi can read
// each argument straight from the copied slot.

import CEddyABI
@preconcurrency import CFFI

/// One signature letter.
enum FFIKind: UInt8 {
    case void = 0x76     // v
    case int32 = 0x69    // i
    case uint32 = 0x49   // I
    case int64 = 0x6C    // l
    case uint64 = 0x4C   // L
    case size = 0x7A     // z
    case double = 0x64   // d
    case float = 0x66    // f
    case pointer = 0x70  // p

    /// libffi's description of the type (a process-wide static ffi_type).
    var ffiType: UnsafeMutablePointer<ffi_type> {
        switch self {
        case .void: return withUnsafeMutablePointer(to: &ffi_type_void) { $0 }
        case .int32: return withUnsafeMutablePointer(to: &ffi_type_sint32) { $0 }
        case .uint32: return withUnsafeMutablePointer(to: &ffi_type_uint32) { $0 }
        case .int64: return withUnsafeMutablePointer(to: &ffi_type_sint64) { $0 }
        case .uint64, .size: return withUnsafeMutablePointer(to: &ffi_type_uint64) { $0 }
        case .double: return withUnsafeMutablePointer(to: &ffi_type_double) { $0 }
        case .float: return withUnsafeMutablePointer(to: &ffi_type_float) { $0 }
        case .pointer: return withUnsafeMutablePointer(to: &ffi_type_pointer) { $0 }
        }
    }
}

/// A parsed signature: return kind and argument kinds.
struct FFISignature {
    var result: FFIKind
    var arguments: [FFIKind]

    /// Parses "R(A...)"; nil when malformed. At most 64 arguments.
    init?(_ text: UnsafePointer<CChar>) {
        var p = UnsafeRawPointer(text).assumingMemoryBound(to: UInt8.self)
        guard let r = FFIKind(rawValue: p.pointee) else { return nil }
        result = r
        p += 1
        guard p.pointee == 0x28 else { return nil }  // (
        p += 1
        arguments = []
        while p.pointee != 0x29 {  // )
            guard let a = FFIKind(rawValue: p.pointee), a != .void, arguments.count < 64 else { return nil }
            arguments.append(a)
            p += 1
        }
        p += 1
        guard p.pointee == 0 else { return nil }
    }
}

/// A prepared call: cif, argument storage and pointers, owned until the call ran.
/// Used by exactly one thread at a time (prepared by the caller, then handed
/// to one worker through the pool's locked queue).
final class FFICall: @unchecked Sendable {
    let signature: FFISignature
    let function: @convention(c) () -> Void
    private let cif: UnsafeMutablePointer<ffi_cif>
    private let types: UnsafeMutablePointer<UnsafeMutablePointer<ffi_type>?>
    private let values: UnsafeMutablePointer<UInt64>
    private let valuePointers: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    private let count: Int

    /// nil (EDDY_EINVAL) when libffi refuses the signature.
    init?(function: @escaping @convention(c) () -> Void, signature: FFISignature, args: UnsafePointer<eddy_value_t>?) {
        self.signature = signature
        self.function = function
        count = signature.arguments.count
        cif = .allocate(capacity: 1)
        types = .allocate(capacity: max(count, 1))
        values = .allocate(capacity: max(count, 1))
        valuePointers = .allocate(capacity: max(count, 1))
        for k in 0..<count {
            types[k] = signature.arguments[k].ffiType
            values[k] = args.unsafelyUnwrapped[k].u  // all 64 bits of the union: ffi reads its own width
            valuePointers[k] = UnsafeMutableRawPointer(values + k)
        }
        let status = ffi_prep_cif(cif, FFI_DEFAULT_ABI, UInt32(count), signature.result.ffiType,
                                  count == 0 ? nil : types)
        guard status == FFI_OK else {
            deallocate()
            return nil
        }
    }

    private func deallocate() {
        cif.deallocate()
        types.deallocate()
        values.deallocate()
        valuePointers.deallocate()
    }

    deinit { deallocate() }

    /// Runs the call (on a worker) and returns the eddy_value_t bits of the result.
    func invoke() -> UInt64 {
        // ffi_call writes at least sizeof(ffi_arg) bytes; 16 covers every type here.
        var slot: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &slot) { raw in
            ffi_call(cif, function, raw.baseAddress, count == 0 ? nil : valuePointers)
        }
        let word = slot.0
        switch signature.result {
        case .void: return 0
        // Integer returns narrower than ffi_arg come back widened in the ffi_arg
        // slot: narrow, then sign/zero-extend into eddy_value_t's .i / .u.
        case .int32: return UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: word)))
        case .uint32: return UInt64(UInt32(truncatingIfNeeded: word))
        case .float: return UInt64(UInt32(truncatingIfNeeded: word))
        case .int64, .uint64, .size, .double, .pointer: return word
        }
    }
}
