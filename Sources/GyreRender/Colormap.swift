import Foundation

/// An sRGB colour, 8 bits a channel.
public struct RGB: Sendable, Hashable, CustomStringConvertible {
    public var r: UInt8, g: UInt8, b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) {
        self.r = r
        self.g = g
        self.b = b
    }

    /// `#rrggbb`.
    public var description: String {
        "#" + [r, g, b].map { v in
            let s = String(v, radix: 16)
            return s.count == 1 ? "0" + s : s
        }.joined()
    }

    /// A colour from `#rrggbb`, `rrggbb`, `#rgb` or a CSS name datashader knows (`lightblue`).
    public init(parsing text: String) throws {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if let named = RGB.named[t] {
            self = named
            return
        }
        var hex = t.hasPrefix("#") ? String(t.dropFirst()) : t
        if hex.count == 3 { hex = hex.map { "\($0)\($0)" }.joined() }
        guard hex.count == 6, let v = UInt32(hex, radix: 16) else {
            throw GyreRenderError(.invalidArgument, "colour '\(text)' is neither #rrggbb nor a known colour name")
        }
        self.init(UInt8(v >> 16), UInt8((v >> 8) & 0xff), UInt8(v & 0xff))
    }

    /// The CSS colour names most used with datashader.
    static let named: [String: RGB] = [
        "black": RGB(0, 0, 0), "white": RGB(255, 255, 255), "red": RGB(255, 0, 0), "green": RGB(0, 128, 0),
        "blue": RGB(0, 0, 255), "yellow": RGB(255, 255, 0), "cyan": RGB(0, 255, 255), "magenta": RGB(255, 0, 255),
        "orange": RGB(255, 165, 0), "purple": RGB(128, 0, 128), "gray": RGB(128, 128, 128), "grey": RGB(128, 128, 128),
        "lightblue": RGB(173, 216, 230), "darkblue": RGB(0, 0, 139), "lightgray": RGB(211, 211, 211),
        "darkgray": RGB(169, 169, 169), "pink": RGB(255, 192, 203), "brown": RGB(165, 42, 42), "navy": RGB(0, 0, 128),
        "darkred": RGB(139, 0, 0), "darkgreen": RGB(0, 100, 0), "lightgreen": RGB(144, 238, 144),
    ]
}

/// A list of colours that values are spread over (datashader's `cmap` as a list): the lowest
/// value gets the first colour, the highest the last, values between are interpolated
/// linearly per channel between the two nearest colours.
public struct Colormap: Sendable, Hashable {
    public let name: String
    public let colors: [RGB]

    public init(name: String, colors: [RGB]) throws {
        guard !colors.isEmpty else { throw GyreRenderError(.invalidArgument, "colormap '\(name)' has no colours") }
        self.name = name
        self.colors = colors
    }

    /// datashader's default: light blue to dark blue.
    public static let `default` = try! Colormap(name: "lightblue,darkblue", colors: [RGB.named["lightblue"]!, RGB.named["darkblue"]!])

    /// The names of the shipped maps (CET maps from colorcet, viridis and its family from
    /// matplotlib).
    public static var names: [String] { continuousTables.map(\.name) }

    /// A shipped map by name (`fire`, `viridis`, `coolwarm`; `_r` reverses one:
    /// `fire_r`), or a comma-separated list of colours (`white,#ff0000`).
    public static func named(_ text: String) throws -> Colormap {
        let key = text.trimmingCharacters(in: .whitespaces)
        let reversed = key.hasSuffix("_r")
        let base = reversed ? String(key.dropLast(2)) : key
        if let t = continuousTables.first(where: { $0.name == base.lowercased() }) {
            let c = decode(t.hex)
            return try Colormap(name: key, colors: reversed ? c.reversed() : c)
        }
        if key.contains(",") || key.hasPrefix("#") || RGB.named[key.lowercased()] != nil {
            let colors = try key.split(separator: ",").map { try RGB(parsing: String($0)) }
            return try Colormap(name: key, colors: colors)
        }
        throw GyreRenderError(.invalidArgument, "unknown colormap '\(text)' (known: \(names.joined(separator: ", ")); or give colours: white,#ff0000)")
    }

    /// A categorical colour key by name (`sets1to3`, datashader's default, or `glasbey`), or
    /// a comma-separated list of colours.
    public static func colorKey(_ text: String) throws -> [RGB] {
        if let t = categoricalTables.first(where: { $0.name == text.lowercased() }) { return decode(t.hex) }
        return try text.split(separator: ",").map { try RGB(parsing: String($0)) }
    }

    /// datashader's default categorical key (`Sets1to3`).
    public static let defaultColorKey: [RGB] = decode(categoricalTables.first { $0.name == "sets1to3" }!.hex)

    static func decode(_ hex: String) -> [RGB] {
        let u = Array(hex.utf8)
        func nibble(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : (c | 0x20) - 87 }
        return stride(from: 0, to: u.count - 5, by: 6).map { i in
            RGB(nibble(u[i]) << 4 | nibble(u[i + 1]), nibble(u[i + 2]) << 4 | nibble(u[i + 3]), nibble(u[i + 4]) << 4 | nibble(u[i + 5]))
        }
    }
}
