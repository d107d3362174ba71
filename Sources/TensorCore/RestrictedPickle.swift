// A restricted reader of the pickles torch.save writes for a state dict (protocol 2): it builds plain values and
// never calls anything. The only globals it accepts are the ones a state dict names (collections.OrderedDict,
// torch._utils._rebuild_tensor_v2 / _rebuild_parameter, torch.*Storage); every other GLOBAL, and a REDUCE or
// BUILD on anything but those, is refused with an error that names it. Every count and length is bounded.
import Foundation

package struct PickleError: Error, CustomStringConvertible, Equatable {
    package let problem: String
    package var description: String { "pickle: \(problem)" }
    init(_ problem: String) { self.problem = problem }
}

/// A torch storage named by a persistent id: its archive key, element type and element count.
package struct PickleStorage: Equatable, Sendable {
    package var key: String
    package var dtype: SafetensorsDType
    package var count: Int
}

/// A tensor as `_rebuild_tensor_v2` describes it: a view into a storage.
package struct PickleTensor: Equatable, Sendable {
    package var storage: PickleStorage
    package var offset: Int
    package var shape: [Int]
    package var strides: [Int]
}

/// The values a state-dict pickle can hold. Lists and dicts are shared objects, as in Python: APPEND and SETITEMS
/// change the one object every memo reference sees, so building a container of n items costs O(n) however it is
/// referenced. Dicts keep their insertion order.
package indirect enum PickleValue: @unchecked Sendable {
    case none, bool(Bool), int(Int), float(Double), string(String), bytes(Data)
    case tuple([PickleValue]), list(PickleList), dict(PickleDict)
    case global(String), storage(PickleStorage), tensor(PickleTensor)
}

package final class PickleList { package var items: [PickleValue] = [] }
package final class PickleDict { package var pairs: [(key: PickleValue, value: PickleValue)] = [] }

package enum RestrictedPickle {
    /// Limits: operations, stack depth, memo entries, items per container and tensor rank.
    static let maxOperations = 50_000_000, maxStack = 1_000_000, maxMemo = 10_000_000, maxRank = 16

    /// The storage classes a persistent id may name, and the element type each holds.
    static let storageTypes: [String: SafetensorsDType] = [
        "torch.FloatStorage": .F32, "torch.HalfStorage": .F16, "torch.BFloat16Storage": .BF16, "torch.DoubleStorage": .F64,
        "torch.LongStorage": .I64, "torch.IntStorage": .I32, "torch.ShortStorage": .I16, "torch.CharStorage": .I8,
        "torch.ByteStorage": .U8, "torch.BoolStorage": .BOOL,
    ]
    static let orderedDict = "collections.OrderedDict"
    static let rebuildTensor = "torch._utils._rebuild_tensor_v2"
    static let rebuildParameter = "torch._utils._rebuild_parameter"

    /// Runs the pickle in `bytes` and returns the value it leaves (the STOP value).
    package static func load(_ bytes: Data) throws -> PickleValue {
        var r = Reader(bytes: bytes)
        var stack: [PickleValue] = []
        var marks: [Int] = []
        var memo: [Int: PickleValue] = [:]
        func pop() throws -> PickleValue {
            guard let v = stack.popLast() else { throw PickleError("stack underflow at byte \(r.at)") }
            return v
        }
        func popMark() throws -> [PickleValue] {
            guard let m = marks.popLast(), m <= stack.count else { throw PickleError("no MARK before byte \(r.at)") }
            let items = Array(stack[m...])
            stack.removeSubrange(m...)
            return items
        }
        func push(_ v: PickleValue) throws {
            guard stack.count < maxStack else { throw PickleError("stack deeper than \(maxStack)") }
            stack.append(v)
        }
        func remember(_ index: Int) throws {
            guard let top = stack.last else { throw PickleError("PUT on an empty stack") }
            guard index >= 0, memo.count < maxMemo || memo[index] != nil else { throw PickleError("more than \(maxMemo) memo entries") }
            memo[index] = top
        }
        func recall(_ index: Int) throws {
            guard let v = memo[index] else { throw PickleError("GET of memo \(index), which was never PUT") }
            try push(v)
        }
        func setItems(_ items: [PickleValue]) throws {
            guard items.count % 2 == 0 else { throw PickleError("SETITEMS with an odd number of items") }
            guard case .dict(let dict) = stack.last ?? .none else { throw PickleError("SETITEM(S) on something not a dict") }
            // A repeated key is kept twice; readers take the last, as Python's dict would.
            for i in stride(from: 0, to: items.count, by: 2) { dict.pairs.append((items[i], items[i + 1])) }
        }
        for _ in 0..<maxOperations {
            let op = try r.byte()
            switch op {
            case 0x80: _ = try r.byte()                                        // PROTO
            case 0x2E: guard stack.count == 1 else { throw PickleError("STOP with \(stack.count) values on the stack") }
                return stack[0]                                                // STOP
            case 0x28: marks.append(stack.count)                               // MARK
            case 0x30: _ = try pop()                                           // POP
            case 0x32: guard let top = stack.last else { throw PickleError("DUP on an empty stack") }; try push(top)
            case 0x4E: try push(.none)                                         // NONE
            case 0x88: try push(.bool(true))                                   // NEWTRUE
            case 0x89: try push(.bool(false))                                  // NEWFALSE
            case 0x4A: try push(.int(Int(Int32(bitPattern: try r.u32()))))    // BININT
            case 0x4B: try push(.int(Int(try r.byte())))                       // BININT1
            case 0x4D: try push(.int(Int(try r.u16())))                        // BININT2
            case 0x8A: try push(.int(try r.long(Int(try r.byte()))))           // LONG1
            case 0x47: try push(.float(Double(bitPattern: try r.u64BigEndian())))  // BINFLOAT
            case 0x58: try push(.string(try r.utf8(Int(try r.u32()))))        // BINUNICODE
            case 0x8C: try push(.string(try r.utf8(Int(try r.byte()))))       // SHORT_BINUNICODE
            case 0x55: try push(.string(try r.utf8(Int(try r.byte()))))       // SHORT_BINSTRING
            case 0x54: try push(.string(try r.utf8(Int(try r.u32()))))        // BINSTRING
            case 0x43: try push(.bytes(try r.take(Int(try r.byte()))))        // SHORT_BINBYTES
            case 0x42: try push(.bytes(try r.take(Int(try r.u32()))))         // BINBYTES
            case 0x29: try push(.tuple([]))                                    // EMPTY_TUPLE
            case 0x74: try push(.tuple(try popMark()))                         // TUPLE
            case 0x85: try push(.tuple([try pop()]))                           // TUPLE1
            case 0x86: let b = try pop(), a = try pop(); try push(.tuple([a, b]))  // TUPLE2
            case 0x87: let c = try pop(), b = try pop(), a = try pop(); try push(.tuple([a, b, c]))  // TUPLE3
            case 0x5D: try push(.list(PickleList()))                           // EMPTY_LIST
            case 0x7D: try push(.dict(PickleDict()))                           // EMPTY_DICT
            case 0x61, 0x65:                                                   // APPEND, APPENDS
                let items = op == 0x61 ? [try pop()] : try popMark()
                guard case .list(let list) = stack.last ?? .none else { throw PickleError("APPEND(S) on something not a list") }
                list.items += items
            case 0x73: let v = try pop(), k = try pop(); try setItems([k, v])  // SETITEM
            case 0x75: try setItems(try popMark())                             // SETITEMS
            case 0x71: try remember(Int(try r.byte()))                         // BINPUT
            case 0x72: try remember(Int(try r.u32()))                          // LONG_BINPUT
            case 0x94: try remember(memo.count)                                // MEMOIZE
            case 0x68: try recall(Int(try r.byte()))                           // BINGET
            case 0x6A: try recall(Int(try r.u32()))                            // LONG_BINGET
            case 0x63:                                                         // GLOBAL
                let name = "\(try r.line()).\(try r.line())"
                guard name == orderedDict || name == rebuildTensor || name == rebuildParameter || storageTypes[name] != nil else {
                    throw PickleError("refused global \(name): only a state dict's tensors and storages are read, nothing is executed")
                }
                try push(.global(name))
            case 0x51: try push(.storage(try persistent(try pop())))           // BINPERSID
            case 0x52:                                                         // REDUCE
                let args = try pop(), callable = try pop()
                guard case .tuple(let a) = args else { throw PickleError("REDUCE arguments are not a tuple") }
                try push(try reduce(callable, a))
            case 0x62:                                                         // BUILD
                _ = try pop()
                guard case .dict = stack.last ?? .none else {
                    throw PickleError("refused BUILD on \(stack.last.map(describe) ?? "nothing"): only an OrderedDict's attributes are accepted")
                }
            default:
                throw PickleError(String(format: "refused opcode 0x%02x at byte %d (not one a torch state dict uses)", op, r.at - 1))
            }
        }
        throw PickleError("more than \(maxOperations) operations")
    }

    /// A short name for a value in errors (never its contents: memo references can make a value's tree huge).
    static func describe(_ v: PickleValue) -> String {
        switch v {
        case .global(let name): name
        case .string(let s): "the string \"\(s.prefix(60))\""
        case .tuple(let t): "a tuple of \(t.count)"
        case .none: "None"
        case .bool, .int, .float: "a number"
        case .bytes: "bytes"
        case .list: "a list"
        case .dict: "a dict"
        case .storage: "a storage"
        case .tensor: "a tensor"
        }
    }

    /// The persistent id torch writes for a storage: ('storage', StorageClass, key, location, count).
    static func persistent(_ pid: PickleValue) throws -> PickleStorage {
        guard case .tuple(let t) = pid, t.count == 5, case .string("storage") = t[0], case .global(let type) = t[1],
              let dtype = storageTypes[type], case .string(let key) = t[2], case .int(let count) = t[4], count >= 0 else {
            throw PickleError("refused persistent id \(describe(pid)): expected ('storage', torch.*Storage, key, location, count)")
        }
        return PickleStorage(key: key, dtype: dtype, count: count)
    }

    /// The calls a state dict makes: an empty OrderedDict, a tensor view of a storage, or that tensor as a parameter.
    static func reduce(_ callable: PickleValue, _ args: [PickleValue]) throws -> PickleValue {
        guard case .global(let name) = callable else { throw PickleError("refused REDUCE on \(describe(callable)), which is not a global") }
        switch name {
        case orderedDict:
            guard args.isEmpty else { throw PickleError("OrderedDict with arguments is not accepted") }
            return .dict(PickleDict())
        case rebuildTensor:
            // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
            guard args.count >= 6, args.count <= 7, case .storage(let storage) = args[0], case .int(let offset) = args[1],
                  case .tuple(let size) = args[2], case .tuple(let stride) = args[3], size.count == stride.count, size.count <= maxRank else {
                throw PickleError("_rebuild_tensor_v2 with unexpected arguments")
            }
            let shape = try size.map { v -> Int in guard case .int(let n) = v, n >= 0 else { throw PickleError("a tensor size is not a non-negative int") }; return n }
            let strides = try stride.map { v -> Int in guard case .int(let n) = v, n >= 0 else { throw PickleError("a tensor stride is not a non-negative int") }; return n }
            guard offset >= 0 else { throw PickleError("a negative storage offset") }
            return .tensor(PickleTensor(storage: storage, offset: offset, shape: shape, strides: strides))
        case rebuildParameter:
            // (tensor, requires_grad, backward_hooks)
            guard args.count == 3, case .tensor = args[0] else { throw PickleError("_rebuild_parameter with unexpected arguments") }
            return args[0]
        default:
            throw PickleError("refused REDUCE on \(name): only OrderedDict and tensor rebuilds are called")
        }
    }

    /// Reads the pickle's bytes; every read checks what is left.
    struct Reader {
        let bytes: Data
        var at = 0

        mutating func take(_ n: Int) throws -> Data {
            guard n >= 0, n <= bytes.count - at else { throw PickleError("truncated: \(n) bytes wanted at byte \(at) of \(bytes.count)") }
            defer { at += n }
            return bytes.subdata(in: (bytes.startIndex + at)..<(bytes.startIndex + at + n))
        }
        mutating func byte() throws -> UInt8 { try take(1).first! }
        mutating func u16() throws -> UInt16 { try take(2).reversed().reduce(0) { $0 << 8 | UInt16($1) } }
        mutating func u32() throws -> UInt32 { try take(4).reversed().reduce(0) { $0 << 8 | UInt32($1) } }
        mutating func u64BigEndian() throws -> UInt64 { try take(8).reduce(0) { $0 << 8 | UInt64($1) } }
        mutating func utf8(_ n: Int) throws -> String {
            guard let s = String(data: try take(n), encoding: .utf8) else { throw PickleError("a string before byte \(at) is not UTF-8") }
            return s
        }
        /// LONG1: a little-endian two's-complement integer of `n` bytes; more than 8 do not fit and are refused.
        mutating func long(_ n: Int) throws -> Int {
            guard n <= 8 else { throw PickleError("an integer of \(n) bytes is too large") }
            let d = try take(n)
            guard n > 0 else { return 0 }
            var v = d.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            if n < 8, d.last! & 0x80 != 0 { v |= ~UInt64(0) << (8 * UInt64(n)) }
            return Int(Int64(bitPattern: v))
        }
        /// GLOBAL's module and name, each ended by a newline (at most 256 bytes).
        mutating func line() throws -> String {
            var out: [UInt8] = []
            while true {
                let b = try byte()
                if b == 0x0A { break }
                guard out.count < 256 else { throw PickleError("a GLOBAL name longer than 256 bytes") }
                out.append(b)
            }
            return String(decoding: out, as: UTF8.self)
        }
    }
}
