import GyreCore
import GRDB
import GRDBSQLite

/// Typed reads of one top-level property from an item's `properties` JSON text, as SQL
/// functions registered through SQLite's C interface: `gyre_number(properties, 'eo:cloud_cover')`
/// is the number or NULL, and likewise `gyre_string`, `gyre_boolean` (1 or 0), `gyre_array` and
/// `gyre_json` (any value but JSON null, for isNull).
///
/// They replace `CASE WHEN json_type(properties, ?) IN (...) THEN json_extract(properties, ?)
/// END`, which parses the whole text into SQLite's JSON tree (about 1.5 us for a Sentinel-2
/// item's properties) before it looks anything up. These walk the bytes SQLite holds, skip the
/// values of the other keys without decoding them, and stop at the key, and nothing is copied
/// but a string result: a search that can only be answered by reading the properties of many
/// items, such as a filter on three properties, reads each item's several times faster.
enum SQLiteProperties {
    enum Kind: Int { case number, string, boolean, array, json }

    static func register(_ db: Database) throws {
        guard let connection = db.sqliteConnection else { return }
        let functions: [(String, Kind)] = [("gyre_number", .number), ("gyre_string", .string), ("gyre_boolean", .boolean),
                                           ("gyre_array_value", .array), ("gyre_json", .json)]
        for (name, kind) in functions {
            // The kind travels as the function's user data (a small integer, never dereferenced).
            let data = UnsafeMutableRawPointer(bitPattern: kind.rawValue + 1)
            let rc = sqlite3_create_function_v2(connection, name, 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, data,
                                                { context, _, args in SQLiteProperties.call(context, args) }, nil, nil, nil)
            guard rc == SQLITE_OK else {
                throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: "cannot register the SQL function \(name)")
            }
        }
    }

    static func call(_ context: OpaquePointer?, _ args: UnsafeMutablePointer<OpaquePointer?>?) {
        guard let args, let raw = sqlite3_user_data(context), let kind = Kind(rawValue: Int(bitPattern: raw) - 1),
              sqlite3_value_type(args[0]) == SQLITE_TEXT, let text = sqlite3_value_text(args[0]),
              let key = sqlite3_value_text(args[1]) else {
            sqlite3_result_null(context)
            return
        }
        let json = UnsafeBufferPointer(start: text, count: Int(sqlite3_value_bytes(args[0])))
        let name = UnsafeBufferPointer(start: key, count: Int(sqlite3_value_bytes(args[1])))
        guard let span = JSONBytes.member(name, of: json) else {
            sqlite3_result_null(context)
            return
        }
        let first = json[span.lowerBound]
        switch kind {
        case .number:
            guard first == UInt8(ascii: "-") || (first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9")) else { break }
            if let i = JSONBytes.integer(json, span) {
                sqlite3_result_int64(context, i)
            } else if let d = JSONBytes.double(json, span) {
                sqlite3_result_double(context, d)
            } else {
                sqlite3_result_null(context)
            }
            return
        case .string:
            guard first == UInt8(ascii: "\"") else { break }
            let inner = (span.lowerBound + 1)..<(span.upperBound - 1)
            if !json[inner].contains(UInt8(ascii: "\\")) {
                sqlite3_result_text(context, UnsafeRawPointer(json.baseAddress! + inner.lowerBound).assumingMemoryBound(to: CChar.self),
                                    Int32(inner.count), SQLiteRaw.transient)
            } else if case .string(let s)? = try? JSON.parse(String(decoding: json[span], as: UTF8.self)) {
                var s = s
                s.withUTF8 { b in
                    sqlite3_result_text(context, UnsafeRawPointer(b.baseAddress!).assumingMemoryBound(to: CChar.self), Int32(b.count), SQLiteRaw.transient)
                }
            } else {
                sqlite3_result_null(context)
            }
            return
        case .boolean:
            if first == UInt8(ascii: "t") { sqlite3_result_int64(context, 1); return }
            if first == UInt8(ascii: "f") { sqlite3_result_int64(context, 0); return }
        case .array, .json:
            guard kind == .json ? first != UInt8(ascii: "n") : first == UInt8(ascii: "[") else { break }
            sqlite3_result_text(context, UnsafeRawPointer(json.baseAddress! + span.lowerBound).assumingMemoryBound(to: CChar.self),
                                Int32(span.count), SQLiteRaw.transient)
            return
        }
        sqlite3_result_null(context)
    }
}

/// Reading JSON text in place: the byte range of an object's member, without a parse tree.
/// The text is trusted to be JSON (a catalog writes every `properties` it stores with Gyre's
/// own writer); on text that is not, a lookup finds nothing rather than failing.
enum JSONBytes {
    static let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")

    /// The range of the value of the top-level member `key` of the object in `b`, or nil
    /// when `b` is not an object or has no such member. Keys written with escapes are
    /// compared by what they decode to.
    static func member(_ key: UnsafeBufferPointer<UInt8>, of b: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        var i = space(b, 0)
        guard i < b.count, b[i] == UInt8(ascii: "{") else { return nil }
        i = space(b, i + 1)
        if i < b.count, b[i] == UInt8(ascii: "}") { return nil }
        while i < b.count, b[i] == quote {
            guard let end = stringEnd(b, i) else { return nil }
            let matches = keyEquals(b, (i + 1)..<(end - 1), key)
            i = space(b, end)
            guard i < b.count, b[i] == UInt8(ascii: ":") else { return nil }
            i = space(b, i + 1)
            guard let valueEnd = valueEnd(b, i) else { return nil }
            if matches { return i..<valueEnd }
            i = space(b, valueEnd)
            guard i < b.count, b[i] == UInt8(ascii: ",") else { return nil }
            i = space(b, i + 1)
        }
        return nil
    }

    static func space(_ b: UnsafeBufferPointer<UInt8>, _ start: Int) -> Int {
        var i = start
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
        return i
    }

    /// The index after the closing quote of the string that opens at `start`.
    static func stringEnd(_ b: UnsafeBufferPointer<UInt8>, _ start: Int) -> Int? {
        var i = start + 1
        while i < b.count {
            let c = b[i]
            if c == quote { return i + 1 }
            i += c == backslash ? 2 : 1
        }
        return nil
    }

    /// The index after the value that starts at `start`.
    static func valueEnd(_ b: UnsafeBufferPointer<UInt8>, _ start: Int) -> Int? {
        guard start < b.count else { return nil }
        switch b[start] {
        case quote:
            return stringEnd(b, start)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0, i = start
            while i < b.count {
                let c = b[i]
                if c == quote {
                    guard let e = stringEnd(b, i) else { return nil }
                    i = e
                    continue
                }
                if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") { depth += 1 }
                if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") {
                    depth -= 1
                    if depth == 0 { return i + 1 }
                }
                i += 1
            }
            return nil
        default:
            var i = start
            while i < b.count {
                let c = b[i]
                if c == UInt8(ascii: ",") || c == UInt8(ascii: "}") || c == UInt8(ascii: "]") || c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { break }
                i += 1
            }
            return i > start ? i : nil
        }
    }

    static func keyEquals(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        if !b[r].contains(backslash) {
            guard r.count == key.count else { return false }
            var i = 0
            while i < key.count {
                if b[r.lowerBound + i] != key[i] { return false }
                i += 1
            }
            return true
        }
        guard case .string(let s)? = try? JSON.parse(String(decoding: b[(r.lowerBound - 1)..<(r.upperBound + 1)], as: UTF8.self)) else { return false }
        return s.utf8.elementsEqual(key)
    }

    /// An integer written without fraction or exponent that fits in 64 bits, as SQLite's
    /// json_extract gives one; nil for any other number.
    static func integer(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Int64? {
        var i = r.lowerBound
        let negative = b[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        guard i < r.upperBound, r.upperBound - i <= 18 else { return nil }
        var v: Int64 = 0
        while i < r.upperBound {
            let d = b[i] &- UInt8(ascii: "0")
            guard d < 10 else { return nil }
            v = v * 10 + Int64(d)
            i += 1
        }
        return negative ? -v : v
    }

    static func double(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Double? {
        Double(Substring(decoding: UnsafeBufferPointer(rebasing: b[r]), as: UTF8.self))
    }
}
