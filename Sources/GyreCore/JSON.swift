import Foundation
@_exported import OrderedCollections

/// A JSON object with its keys in document order.
public typealias JSONObject = OrderedDictionary<String, JSON>

/// The one JSON value type of Gyre (STAC documents, Zarr metadata, codec configurations, and
/// every JSON to come). It round-trips: object keys keep their order, integers stay exact (`int`)
/// and apart from numbers with a fraction or exponent (`double`), so a document read and written
/// again carries every field it came with, unknown extensions included.
public enum JSON: Sendable, Hashable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSON])
    case object(JSONObject)

    public subscript(key: String) -> JSON? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    public var string: String? { if case .string(let s) = self { return s }; return nil }
    public var object: JSONObject? { if case .object(let o) = self { return o }; return nil }
    public var array: [JSON]? { if case .array(let a) = self { return a }; return nil }
    public var bool: Bool? { if case .bool(let b) = self { return b }; return nil }
    public var isNull: Bool { if case .null = self { return true }; return false }
    /// The value as a Double, for `int` and `double`.
    public var number: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }
    /// The value as an exact integer: an `int`, or a `double` with no fraction that fits.
    public var integer: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d == d.rounded() && Swift.abs(d) < 9e18: return Int64(d)
        default: return nil
        }
    }

    /// Compact JSON text, keys in their order.
    public var description: String { text }

    /// What the value is, for error messages ("a string", "an object").
    public var kind: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int, .double: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

// MARK: - Parsing

extension JSON {
    /// The deepest nesting accepted: deeper documents are refused rather than risking the stack.
    public static let maxDepth = 256

    /// Parses one JSON document. `source` names it in errors, which give the line and column
    /// of the fault.
    public static func parse(_ bytes: some Collection<UInt8>, source: String = "JSON") throws -> JSON {
        let array = Array(bytes)
        return try array.withUnsafeBufferPointer { try parse(buffer: $0, source: source) }
    }

    /// Parses the document in `buffer` where it lies (no copy).
    public static func parse(buffer: UnsafeBufferPointer<UInt8>, source: String = "JSON") throws -> JSON {
        var p = JSONParser(buffer, source: source)
        defer { p.release() }
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        if p.i < buffer.count { throw p.fail("unexpected \(p.describeHere()) after the document") }
        return v
    }

    public static func parse(_ text: String, source: String = "JSON") throws -> JSON {
        try parse(Array(text.utf8), source: source)
    }

    /// Parses the document in `buffer` and sets `spans` to where the values of its top-level
    /// members lie in `buffer` (empty unless it is an object), for callers that keep some
    /// members as they were written.
    public static func parse(buffer: UnsafeBufferPointer<UInt8>, source: String = "JSON", spans: inout [(key: String, range: Range<Int>)]) throws -> JSON {
        var p = JSONParser(buffer, source: source)
        spans.removeAll(keepingCapacity: true)
        swap(&p.spans, &spans)
        defer { swap(&p.spans, &spans) }
        p.recordsSpans = true
        defer { p.release() }
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        if p.i < buffer.count { throw p.fail("unexpected \(p.describeHere()) after the document") }
        return v
    }
}

struct JSONParser {
    let b: UnsafeBufferPointer<UInt8>
    let source: String
    var i = 0
    /// Whether to note where the top-level object's member values lie, in `spans`.
    var recordsSpans = false
    var spans: [(key: String, range: Range<Int>)] = []

    /// Members and elements parsed but not yet put in their object or array, for every level
    /// open: each object and array is built once at its close, at its size, instead of growing.
    var values = Pending<JSON>(), keys = Pending<String>()
    /// For each pending key, its length and first bytes: keys that differ there are not equal,
    /// so a repeated key is found without comparing strings.
    var prints: [UInt64] = []

    init(_ b: UnsafeBufferPointer<UInt8>, source: String) { self.b = b; self.source = source }

    /// Frees the pending stacks (the parser is done, or failed part way).
    mutating func release() { values.release(); keys.release() }

    func fail(_ what: String, at pos: Int? = nil) -> GyreCoreError {
        let p = Swift.min(pos ?? i, b.count)
        var line = 1, col = 1
        for k in 0..<p { if b[k] == 0x0A { line += 1; col = 1 } else if b[k] & 0xC0 != 0x80 { col += 1 } }
        return GyreCoreError(.invalidJSON, "\(source): line \(line), column \(col): \(what)")
    }

    func describeHere() -> String {
        guard i < b.count else { return "end of input" }
        let c = b[i]
        if c >= 0x21 && c < 0x7F { return "'\(Character(Unicode.Scalar(c)))'" }
        return String(format: "byte 0x%02X", c)
    }

    mutating func skipSpace() {
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
    }

    mutating func value(depth: Int) throws -> JSON {
        guard i < b.count else { throw fail("expected a value, found end of input") }
        switch b[i] {
        case UInt8(ascii: "{"):
            guard depth < JSON.maxDepth else { throw fail("nested deeper than \(JSON.maxDepth) levels") }
            i += 1
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return .object(JSONObject()) }
            let first = keys.count
            // Whether the object is built by inserting each member, which keeps a repeated
            // key's first place and last value: when a key repeats, or once the object is too
            // large to compare each key with those before it (hostile input with a million
            // keys would take quadratic time).
            var insert = false
            while true {
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw fail("expected a string key, found \(describeHere())") }
                let keyStart = i + 1
                let k = try string()
                let print = Self.fingerprint(b, keyStart, i - 1 - keyStart)
                if !insert {
                    if keys.count - first >= Self.comparedMembers { insert = true }
                    for p in first..<keys.count where !insert && prints[p] == print && keys[p] == k { insert = true }
                }
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: ":") else { throw fail("expected ':' after key \"\(k)\", found \(describeHere())") }
                i += 1
                skipSpace()
                let start = i
                let v = try value(depth: depth + 1)
                if recordsSpans, depth == 0 { spans.append((k, start..<i)) }
                keys.push(k); prints.append(print); values.push(v)
                skipSpace()
                guard i < b.count else { throw fail("unterminated object: expected ',' or '}'") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "}") { i += 1; break }
                throw fail("expected ',' or '}' in object, found \(describeHere())")
            }
            let n = keys.count - first
            prints.removeLast(n)
            if insert {
                var o = JSONObject(minimumCapacity: n)
                for (k, v) in zip(keys.drain(n), values.drain(n)) { o[k] = v }
                return .object(o)
            }
            return .object(JSONObject(uncheckedUniqueKeysWithValues: zip(keys.drain(n), values.drain(n))))
        case UInt8(ascii: "["):
            guard depth < JSON.maxDepth else { throw fail("nested deeper than \(JSON.maxDepth) levels") }
            i += 1
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; return .array([]) }
            let first = values.count
            while true {
                skipSpace()
                let v = try value(depth: depth + 1)
                values.push(v)
                skipSpace()
                guard i < b.count else { throw fail("unterminated array: expected ',' or ']'") }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "]") { i += 1; break }
                throw fail("expected ',' or ']' in array, found \(describeHere())")
            }
            return .array(values.pop(values.count - first))
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try number()
        default:
            throw fail("expected a value, found \(describeHere())")
        }
    }

    /// The number in `r` (checked JSON syntax, with a fraction or an exponent) when it has at
    /// most 15 significant digits and a power of ten within 10^±22: both are exact doubles,
    /// so one multiplication or division rounds the value correctly (Clinger's fast path);
    /// nil for the rest, which go to the full parser.
    func fastDouble(_ r: Range<Int>) -> Double? {
        var k = r.lowerBound, mantissa: UInt64 = 0, digits = 0, scale = 0
        let negative = b[k] == UInt8(ascii: "-")
        if negative { k += 1 }
        while k < r.upperBound, b[k] >= 0x30, b[k] <= 0x39 {
            if mantissa != 0 || b[k] != 0x30 { digits += 1 }
            mantissa = mantissa &* 10 &+ UInt64(b[k] - 0x30); k += 1
        }
        if k < r.upperBound, b[k] == UInt8(ascii: ".") {
            k += 1
            while k < r.upperBound, b[k] >= 0x30, b[k] <= 0x39 {
                if mantissa != 0 || b[k] != 0x30 { digits += 1 }
                mantissa = mantissa &* 10 &+ UInt64(b[k] - 0x30); scale -= 1; k += 1
            }
        }
        if k < r.upperBound {  // an exponent
            k += 1
            var minus = false
            if b[k] == UInt8(ascii: "+") { k += 1 } else if b[k] == UInt8(ascii: "-") { minus = true; k += 1 }
            var e = 0
            while k < r.upperBound {
                e = e * 10 + Int(b[k] - 0x30); k += 1
                if e > 400 { return nil }
            }
            scale += minus ? -e : e
        }
        guard digits <= 15, scale >= -22, scale <= 22 else { return nil }
        var d = Double(mantissa)
        if scale < 0 { d /= Self.powersOfTen[-scale] } else { d *= Self.powersOfTen[scale] }
        return negative ? -d : d
    }

    static let powersOfTen: [Double] = (0...22).map { e in (0..<e).reduce(1.0) { p, _ in p * 10 } }

    /// The most members an object may have for each key to be compared with those before it.
    static let comparedMembers = 32

    /// A key's length and up to its first 7 bytes as written (escapes and all), as one number.
    static func fingerprint(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ count: Int) -> UInt64 {
        var v = UInt64(truncatingIfNeeded: count) << 56
        for k in 0..<Swift.min(count, 7) { v |= UInt64(b[start + k]) << (8 * UInt64(k)) }
        return v
    }

    mutating func literal(_ word: StaticString) throws {
        let n = word.utf8CodeUnitCount
        guard i + n <= b.count, memcmp(b.baseAddress! + i, word.utf8Start, n) == 0 else {
            throw fail("expected a value, found \(describeHere())")
        }
        i += n
    }

    mutating func number() throws -> JSON {
        let start = i
        var integral = true
        if b[i] == UInt8(ascii: "-") { i += 1 }
        func digits(_ p: inout JSONParser) -> Int {
            let s = p.i
            while p.i < p.b.count, p.b[p.i] >= 0x30, p.b[p.i] <= 0x39 { p.i += 1 }
            return p.i - s
        }
        guard i < b.count, b[i] >= 0x30, b[i] <= 0x39 else { throw fail("expected a digit", at: i) }
        if b[i] == 0x30 { i += 1 } else { _ = digits(&self) }
        if i < b.count, b[i] == UInt8(ascii: ".") {
            integral = false
            i += 1
            guard digits(&self) > 0 else { throw fail("expected a digit after the decimal point") }
        }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            integral = false
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            guard digits(&self) > 0 else { throw fail("expected a digit in the exponent") }
        }
        // Integers of up to 18 digits directly; longer ones and the rest through the parsers.
        if integral, i - start <= 18 {
            var v: Int64 = 0, k = start
            let negative = b[k] == UInt8(ascii: "-")
            if negative { k += 1 }
            while k < i { v = v * 10 + Int64(b[k] - 0x30); k += 1 }
            return .int(negative ? -v : v)
        }
        if !integral, let d = fastDouble(start..<i) { return .double(d) }
        let text = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
        if integral, let v = Int64(text) { return .int(v) }
        guard let d = Double(text), d.isFinite else { throw fail("number \(text) is out of range", at: start) }
        return .double(d)
    }

    mutating func string() throws -> String {
        let open = i
        i += 1
        // Fast path: no escapes.
        var j = i, high: UInt8 = 0
        while j < b.count, b[j] != UInt8(ascii: "\""), b[j] != UInt8(ascii: "\\"), b[j] >= 0x20 { high |= b[j]; j += 1 }
        if j < b.count, b[j] == UInt8(ascii: "\"") {
            let bytes = UnsafeBufferPointer(rebasing: b[i..<j])
            // ASCII (most keys and values) needs no validation; the rest is checked as UTF-8.
            if high < 0x80 { i = j + 1; return String(decoding: bytes, as: UTF8.self) }
            guard let s = String(validating: bytes, as: UTF8.self) else {
                throw fail("string is not valid UTF-8", at: open)
            }
            i = j + 1
            return s
        }
        var out: [UInt8] = Array(UnsafeBufferPointer(rebasing: b[i..<j]))
        i = j
        while true {
            guard i < b.count else { throw fail("unterminated string", at: open) }
            let c = b[i]
            if c == UInt8(ascii: "\"") { i += 1; break }
            if c < 0x20 { throw fail("control character 0x\(String(c, radix: 16)) in a string must be escaped") }
            if c != UInt8(ascii: "\\") { out.append(c); i += 1; continue }
            i += 1
            guard i < b.count else { throw fail("unterminated escape", at: open) }
            let e = b[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    guard i + 1 < b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") else {
                        throw fail("unpaired surrogate \\u\(String(scalar, radix: 16))")
                    }
                    i += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw fail("unpaired surrogate \\u\(String(scalar, radix: 16))") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw fail("unpaired surrogate \\u\(String(scalar, radix: 16))")
                }
                out.append(contentsOf: Array(String(Character(Unicode.Scalar(scalar)!)).utf8))
            default:
                throw fail("invalid escape '\\\(Character(Unicode.Scalar(e)))'", at: i - 2)
            }
        }
        guard let s = String(validating: out, as: UTF8.self) else { throw fail("string is not valid UTF-8", at: open) }
        return s
    }

    mutating func hex4() throws -> UInt32 {
        guard i + 4 <= b.count else { throw fail("expected 4 hex digits after \\u") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = b[i]
            let d: UInt8
            switch c {
            case 0x30...0x39: d = c - 0x30
            case 0x41...0x46: d = c - 0x41 + 10
            case 0x61...0x66: d = c - 0x61 + 10
            default: throw fail("expected 4 hex digits after \\u")
            }
            v = v << 4 | UInt32(d)
            i += 1
        }
        return v
    }
}

/// A stack whose top `n` elements leave it as one array, moved out rather than copied.
struct Pending<Element> {
    private var base: UnsafeMutablePointer<Element>?
    private(set) var count = 0
    private var capacity = 0

    subscript(k: Int) -> Element { base![k] }

    mutating func push(_ e: consuming Element) {
        if count == capacity {
            let grown = Swift.max(64, capacity * 2)
            let new = UnsafeMutablePointer<Element>.allocate(capacity: grown)
            if let base { new.moveInitialize(from: base, count: count); base.deallocate() }
            base = new; capacity = grown
        }
        (base! + count).initialize(to: e)
        count += 1
    }

    /// The top `n` elements, bottom first, taken off the stack.
    mutating func pop(_ n: Int) -> [Element] {
        count -= n
        let from = base! + count
        var out: [Element] = []
        out.reserveCapacity(n)
        for k in 0..<n { out.append((from + k).move()) }
        return out
    }

    /// The top `n` elements, bottom first, taken off the stack as they are read: the sequence
    /// must be read to its end.
    mutating func drain(_ n: Int) -> Drain {
        count -= n
        return Drain(from: base! + count, count: n)
    }

    struct Drain: Sequence, IteratorProtocol {
        let from: UnsafeMutablePointer<Element>, count: Int
        var k = 0
        var underestimatedCount: Int { count }
        mutating func next() -> Element? {
            guard k < count else { return nil }
            defer { k += 1 }
            return (from + k).move()
        }
    }

    mutating func release() {
        guard let base else { return }
        base.deinitialize(count: count)
        base.deallocate()
        self.base = nil; count = 0; capacity = 0
    }
}

// MARK: - Writing

extension JSON {
    /// Compact JSON text, keys in their order.
    public var serialized: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(into: &out)
        return out
    }

    public var text: String { String(decoding: serialized, as: UTF8.self) }

    /// Text for files people read and diff (Zarr metadata): indented by `indent` spaces, object
    /// keys sorted when `sortedKeys` (as zarr-python and json.dumps(sort_keys=True) write).
    public func serialized(indent: Int, sortedKeys: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        writePretty(into: &out, indent: indent, level: 0, sortedKeys: sortedKeys)
        return out
    }

    func writePretty(into out: inout [UInt8], indent: Int, level: Int, sortedKeys: Bool) {
        func newline(_ l: Int) {
            out.append(0x0A)
            out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent * l))
        }
        switch self {
        case .array(let a) where !a.isEmpty:
            out.append(UInt8(ascii: "["))
            for (k, v) in a.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                newline(level + 1)
                v.writePretty(into: &out, indent: indent, level: level + 1, sortedKeys: sortedKeys)
            }
            newline(level)
            out.append(UInt8(ascii: "]"))
        case .object(let o) where !o.isEmpty:
            out.append(UInt8(ascii: "{"))
            let keys = sortedKeys ? o.keys.sorted() : Array(o.keys)
            for (k, key) in keys.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                newline(level + 1)
                JSON.writeString(key, into: &out)
                out.append(contentsOf: ": ".utf8)
                o[key]!.writePretty(into: &out, indent: indent, level: level + 1, sortedKeys: sortedKeys)
            }
            newline(level)
            out.append(UInt8(ascii: "}"))
        default:
            write(into: &out)
        }
    }

    /// Appends the compact JSON text of this value to `out`.
    public func write(into out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let v): out.append(contentsOf: (v ? "true" : "false").utf8)
        case .int(let v): out.append(contentsOf: String(v).utf8)
        case .double(let d): JSON.writeDouble(d, into: &out)
        case .string(let s): JSON.writeString(s, into: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (k, v) in a.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                v.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            var first = true
            for (k, v) in o {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                JSON.writeString(k, into: &out)
                out.append(UInt8(ascii: ":"))
                v.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// A finite double in its shortest round-trip form (1.0, 0.1, 1e-07); NaN and infinities,
    /// which JSON cannot hold, are written as null.
    static func writeDouble(_ d: Double, into out: inout [UInt8]) {
        guard d.isFinite else { out.append(contentsOf: "null".utf8); return }
        out.append(contentsOf: d.description.utf8)
    }

    static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for c in s.utf8 {
            switch c {
            case 0x22: out.append(0x5C); out.append(0x22)
            case 0x5C: out.append(0x5C); out.append(0x5C)
            case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(0x5C); out.append(UInt8(ascii: "t"))
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(c >> 4)], hex[Int(c & 15)]])
            default: out.append(c)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

// MARK: - Codable and literals

extension JSON: Codable {
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSON].self) { self = .array(a) }
        else { self = .object(JSONObject(uniqueKeysWithValues: try c.decode([String: JSON].self).sorted { $0.key < $1.key })) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(Dictionary(uniqueKeysWithValues: o.map { ($0.key, $0.value) }))
        }
    }
}

extension JSON {
    /// An object from a dictionary, its keys sorted (a Swift dictionary has no order to keep).
    public init(sorting dictionary: [String: JSON]) {
        self = .object(JSONObject(uniqueKeysWithValues: dictionary.sorted { $0.key < $1.key }))
    }
}

extension JSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) { self = .object(JSONObject(uniqueKeysWithValues: elements)) }
    public init(nilLiteral: ()) { self = .null }
}
