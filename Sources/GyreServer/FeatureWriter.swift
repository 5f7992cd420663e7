import GyreCore
import GyreCatalog
import GyreSTAC

/// Writes a stored item into a response as it is stored, with only its `links` member replaced
/// by the API's links (the item's own non-structural links kept, as `STACService.itemJSON`
/// does), so a search page costs a scan of each item's text rather than a parse into a model
/// and a write back. The stored text is what Gyre's JSON writer produced at ingest.
enum FeatureWriter {
    /// Appends the item with `links` (followed by its stored non-structural links) to `out`, or
    /// returns false, leaving `out` as it was, when the text is not one object with a list of
    /// links (the parser then says what is wrong with it).
    static func write(_ record: StoredItem, links: [JSON], structural: Set<String>, into out: inout [UInt8]) -> Bool {
        var text = record.text
        return text.withUTF8 { bytes in
            guard let r = linksValue(bytes),
                  case .array(let stored)? = try? JSON.parse(UnsafeBufferPointer(rebasing: bytes[r])) else { return false }
            var all = links
            for l in stored {
                guard case .object(let o) = l, case .string(let rel)? = o["rel"] else { return false }
                if !structural.contains(rel) { all.append(l) }
            }
            out.append(contentsOf: bytes[..<r.lowerBound])
            JSON.array(all).write(into: &out)
            out.append(contentsOf: bytes[r.upperBound...])
            return true
        }
    }

    /// Where the value of the top-level `links` member lies in a JSON object's text; nil when
    /// there is no such member, or the text is not one well-nested object with plain keys.
    static func linksValue(_ b: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        var i = 0
        func space() { while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 } }
        /// Past a string starting at `i` (on its quote); false when it is unterminated.
        func string() -> Bool {
            i += 1
            while i < b.count {
                switch b[i] {
                case UInt8(ascii: "\\"): i += 2
                case UInt8(ascii: "\""): i += 1; return true
                default: i += 1
                }
            }
            return false
        }
        /// Past one value starting at `i`.
        func value() -> Bool {
            guard i < b.count else { return false }
            switch b[i] {
            case UInt8(ascii: "\""): return string()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                while i < b.count {
                    switch b[i] {
                    case UInt8(ascii: "\""): if !string() { return false }; continue
                    case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        depth -= 1
                        if depth == 0 { i += 1; return true }
                    default: break
                    }
                    i += 1
                }
                return false
            default:
                let start = i
                while i < b.count, ![UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]")].contains(b[i]) { i += 1 }
                return i > start
            }
        }
        space()
        guard i < b.count, b[i] == UInt8(ascii: "{") else { return nil }
        i += 1
        var found: Range<Int>?, members = 0
        while true {
            space()
            guard i < b.count else { return nil }
            if b[i] == UInt8(ascii: "}") {
                i += 1
                space()
                return i == b.count ? found : nil
            }
            if members > 0 {
                guard b[i] == UInt8(ascii: ",") else { return nil }
                i += 1
                space()
            }
            guard i < b.count, b[i] == UInt8(ascii: "\"") else { return nil }
            let keyStart = i + 1
            guard string() else { return nil }
            let key = UnsafeBufferPointer(rebasing: b[keyStart..<(i - 1)])
            // An escaped key could spell "links" another way; leave such text to the parser.
            if key.contains(UInt8(ascii: "\\")) { return nil }
            space()
            guard i < b.count, b[i] == UInt8(ascii: ":") else { return nil }
            i += 1
            space()
            let start = i
            guard value() else { return nil }
            if key.elementsEqual("links".utf8) {
                guard found == nil else { return nil }
                found = start..<i
            }
            members += 1
        }
    }
}
